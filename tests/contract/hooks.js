// hooks.js - dredd hooks for test_dredd.py: the real system's token and
// ids. test_dredd.py passes, in TASHAN_DREDD_PLAN (JSON), for each
// operationId it kept: the request path to send (ids of records
// dredd_plan.py made, query parameters a route needs), a body for writes,
// and the token of another role where the operation is that role's (an
// evaluation the panel's, a medal a school's, a check-in a merchant's).
// Every operation of the document is planned: none is skipped here.
const hooks = require('hooks');

const plan = JSON.parse(process.env.TASHAN_DREDD_PLAN || '{}');
const token = process.env.TASHAN_DREDD_TOKEN || '';

function operationId(transaction) {
  // "[title > ]path > operationId > status > type"
  return transaction.name.split(' > ').find((part) => part in plan);
}

hooks.beforeEach((transaction, done) => {
  const step = plan[operationId(transaction)];
  if (!step) {
    transaction.fail = 'no plan for ' + transaction.name;
    return done();
  }
  transaction.fullPath = step.path;
  transaction.request.uri = step.path;
  if (step.public)
    delete transaction.request.headers.Authorization;
  else
    transaction.request.headers.Authorization = 'Bearer ' + (step.token || token);
  if (step.body !== undefined) {
    transaction.request.body = JSON.stringify(step.body);
    transaction.request.headers['Content-Type'] = 'application/json';
  }
  done();
});
