// i18n - Chinese by default, English switchable (kept in localStorage).
// Every text is written in place as t('中文', 'English'); vocabularies of
// the API (tags, categories, states) are maps code -> [zh, en].
let current = localStorage.getItem('tashan_lang') || 'zh';

export function lang () { return current; }
export function setLang (l) {
  current = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('tashan_lang', current);
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}
export function t (zh, en) { return current === 'en' ? en : zh; }
export function v (map, code) {
  const pair = map[code];
  return pair ? (current === 'en' ? pair[1] : pair[0]) : (code || '');
}

export const TAGS = {
  party_member: ['党员', 'Party member'], veteran: ['退役军人', 'Veteran'], elderly: ['老年人', 'Elderly'],
  elderly_alone: ['独居老人', 'Elderly living alone'], disabled: ['残疾人', 'Disabled'], pupil: ['学生', 'Pupil'],
  floating: ['流动人口', 'Floating population'], low_income: ['低收入', 'Low income'],
  unemployed: ['待业', 'Unemployed'], special_care: ['重点关爱', 'Special care'],
  volunteer: ['志愿者', 'Volunteer'], building_head: ['楼长', 'Building head'],
};
export const CATEGORIES = {
  elderly_care: ['养老照护', 'Elderly care'], child_care: ['儿童看护', 'Child care'], medical: ['医疗', 'Medical'],
  repair: ['维修', 'Repair'], cleaning: ['保洁', 'Cleaning'], shopping: ['代购', 'Shopping'],
  tutoring: ['课业辅导', 'Tutoring'], counselling: ['心理疏导', 'Counselling'], legal: ['法律援助', 'Legal aid'],
  employment: ['就业', 'Employment'], transport: ['出行', 'Transport'], companionship: ['陪伴', 'Companionship'],
  haircut: ['理发', 'Haircut'], other: ['其他', 'Other'],
};
export const STATES = {
  open: ['待处理', 'Open'], matched: ['已匹配', 'Matched'], served: ['已服务', 'Served'], closed: ['已关闭', 'Closed'],
  dispatched: ['已派单', 'Dispatched'], accepted: ['已接单', 'Accepted'], done: ['已完成', 'Done'],
  confirmed: ['已确认', 'Confirmed'], submitted: ['已提交', 'Submitted'], rejected: ['未采纳/已驳回', 'Rejected'],
  tendering: ['招标中', 'Tendering'], awarded: ['已中标', 'Awarded'], completed: ['已验收', 'Completed'],
  failed: ['验收未通过', 'Failed'], listed: ['已列入', 'Listed'], claimed: ['已认领', 'Claimed'],
  pending: ['待裁定', 'Pending'], upheld: ['已支持', 'Upheld'], dismissed: ['已驳回', 'Dismissed'],
  good: ['诚信良好', 'Good standing'], watch: ['关注中', 'On watch'], suspended: ['暂停', 'Suspended'],
};
export const RULES = {
  'garbage_sorting.good': ['垃圾分类 好', 'Garbage sorting: good'], 'garbage_sorting.bad': ['垃圾分类 差', 'Garbage sorting: bad'],
  'parking.good': ['停车有序', 'Parking: good'], 'parking.bad': ['乱停乱放', 'Parking: bad'],
  'civil_conduct.good': ['文明行为', 'Civil conduct: good'], 'civil_conduct.bad': ['不文明行为', 'Civil conduct: bad'],
  'volunteer.hour': ['志愿服务时长', 'Volunteer hour'], 'school.medal': ['学校信用奖章', 'School medal'],
  'market.service': ['集市服务', 'Market service'], 'proposal.adopted': ['提案被采纳', 'Proposal adopted'],
  redemption: ['积分兑换', 'Redemption'], 'programme.attended': ['参加活动', 'Programme attended'],
};
export const KINDS = {
  enterprise: ['企业', 'Enterprise'], institution: ['事业单位', 'Institution'], individual: ['个体工商户', 'Individual business'],
  item: ['商品', 'Item'], course_seat: ['课程名额', 'Course seat'],
  earning: ['加分', 'Earning'], penalty: ['扣分', 'Penalty'], reversal: ['冲正', 'Reversal'],
  party_pioneer: ['党员先锋圈', 'Party pioneers'], elderly_mutual_aid: ['网格互助圈', 'Elderly mutual aid'],
  interest: ['兴趣圈', 'Interest circle'], moms_help: ['妈妈帮', "Moms' help group"],
};
export const ROLES = {
  ops: ['社区办公室', 'Community office'], panel: ['评定小组', 'Evaluation panel'],
  school: ['学校', 'School'], merchant: ['商户', 'Merchant'],
};
setLang(current);
