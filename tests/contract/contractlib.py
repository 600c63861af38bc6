"""contractlib - what the contract tests share: finding their tools.

A tool that is missing skips the test (exit 77), unless
TASHAN_CONTRACT_REQUIRED=1 (deploy/test.sh, which installs them): then
it fails."""
import os
import shutil

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))


def missing(tool, install):
    """None when tool is there, else the exit code the test returns (after
    saying what is missing and how to install it)."""
    if os.access(tool, os.X_OK) or shutil.which(tool):
        return None
    if os.environ.get('TASHAN_CONTRACT_REQUIRED') == '1':
        print('%s is missing (%s)' % (tool, install))
        return 1
    print('skip: %s is not installed (%s)' % (os.path.basename(tool), install))
    return SKIP


def npm_tool(name):
    """Path of a tool of tests/contract/node_modules."""
    return os.path.join(HERE, 'node_modules', '.bin', name)
