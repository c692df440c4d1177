"""Fixed vocabularies of indicator systems (考什么)."""

from django.db import models


class Dimension(models.TextChoices):
    """The structure system (结构体系): content every assessment must cover."""

    POLITICAL = "political", "政治建设"
    IDEOLOGICAL = "ideological", "思想建设"
    ORGANIZATIONAL = "organizational", "组织建设"
    CONDUCT = "conduct", "作风建设"
    DISCIPLINE = "discipline", "纪律建设"
    INSTITUTIONAL = "institutional", "制度建设"
    ANTI_CORRUPTION = "anti_corruption", "反腐败斗争"
    INTEGRATION = "integration", "党建业务融合"
    NONE = "", "无"


REQUIRED_DIMENSIONS = tuple(d for d in Dimension if d != Dimension.NONE)


class RuleKind(models.TextChoices):
    """Every rule kind the engine supports (kaoping.engine.model.RULE_KINDS)."""

    RATING = "rating", "评分（0 至满分）"
    GRADE = "grade", "等次评价"
    LINEAR = "linear", "线性插值（下限至目标值）"
    RATIO_TO_TARGET = "ratio_to_target", "完成率（对目标值，封顶）"
    RATIO_TO_BEST = "ratio_to_best", "对标最优（本单位÷第一名×分值）"
    BANDED = "banded", "分档计分"
    DEDUCTION = "deduction", "扣分（扣完为止）"
    BONUS = "bonus", "加分（封顶）"
    PENALTY = "penalty", "附加扣分"
    BASE_ADJUST = "base_adjust", "基础分加减"
    BALLOT = "ballot", "民主测评"
    VETO = "veto", "一票否决"


class DataSource(models.TextChoices):
    SELF = "self", "单位自评"
    REVIEWER = "reviewer", "评审打分"
    BALLOT = "ballot", "民主测评"
    QUANTITATIVE = "quantitative", "量化数据"
    DAILY_RECORD = "daily_record", "平时考核纪实"


# Sources whose data the system already holds: asking units for evidence of them is a burden
# the 2024 rules forbid (最多报一次).
HELD_SOURCES = (DataSource.QUANTITATIVE, DataSource.DAILY_RECORD, DataSource.BALLOT)


class Method(models.TextChoices):
    DOCUMENTS = "documents", "查阅资料"
    SITE_VISIT = "site_visit", "实地查看"
    INTERVIEW = "interview", "个别访谈"
    APPRAISAL = "appraisal", "民主测评"
    DATA_CHECK = "data_check", "数据比对"
    DEBRIEFING = "debriefing", "述职评议"
    SURVEY = "survey", "问卷调查"


class RaterGroupCode(models.TextChoices):
    PARTY_COMMITTEE = "party_committee", "机关党委"
    SUPERIOR = "superior", "上级党组织"
    LEADERSHIP = "leadership", "班子成员"
    MEMBERS = "members", "党员"
    MASSES = "masses", "群众"
    SERVICE_USERS = "service_users", "服务对象"


class MissingPolicy(models.TextChoices):
    RENORMALIZE = "renormalize", "其余指标按权重重新归一"
    ZERO = "zero", "按零分计"
    INCOMPLETE = "incomplete", "标记为数据不全"


class Weighting(models.TextChoices):
    POINTS = "points", "分值制（如百分制）"
    WEIGHTS = "weights", "权重制（同级权重合计 100%）"


MAX_LEVELS = 4
