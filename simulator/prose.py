"""Deterministic word-list prose for simulated releases (Chinese government style and plain English).

Every function takes a `random.Random` and draws from it, so the same generator state gives the same text.
"""

from __future__ import annotations

import random

TOPICS_ZH = (
    "安全生产",
    "垃圾分类",
    "营商环境优化",
    "数字经济发展",
    "乡村振兴",
    "防汛防台",
    "文明城市创建",
    "人才引进",
    "科技创新",
    "城市有机更新",
    "民生实事项目",
    "“最多跑一次”改革",
    "创新创业",
    "生态环境保护",
    "社区治理",
    "消防安全",
    "重点项目建设",
    "招商引资",
    "老旧小区改造",
    "基层党建",
    "食品安全",
    "义务教育均衡发展",
    "养老服务",
    "平安建设",
    "河长制",
    "知识产权保护",
)
ORGS_ZH = (
    "区政府办公室",
    "区发展和改革局",
    "区科学技术局",
    "区财政局",
    "区人力资源和社会保障局",
    "区住房和城乡建设局",
    "区市场监督管理局",
    "区教育局",
    "区卫生健康局",
    "区应急管理局",
    "区生态环境分局",
    "区民政局",
    "长河街道",
    "西兴街道",
    "浦沿街道",
    "区统计局",
    "区司法局",
    "区城市管理局",
)
LEADERS_ZH = (
    "区委书记张建国",
    "区长李明华",
    "副区长陈伟",
    "区委副书记王志强",
    "区政协主席沈国平",
    "区人大常委会主任刘洪涛",
    "副区长周晓燕",
    "区委常委赵立新",
)
#: Names with characters outside GB2312 (镕 堃 喆): GBK pages must contain them.
LEADERS_GBK_ONLY = ("副区长王镕", "区委常委陈堃", "区政协副主席李喆", "区委副书记朱镕")
VERBS_ZH = ("召开", "部署", "推进", "开展", "调研", "督查", "研究", "落实")
MEASURES_ZH = (
    "压实工作责任",
    "强化统筹协调",
    "加强督查考核",
    "完善长效机制",
    "补齐短板弱项",
    "优化服务流程",
    "加大政策扶持力度",
    "深化部门联动",
    "坚持问题导向",
    "注重源头治理",
    "加快数字化改革",
    "提升群众满意度",
    "守牢安全底线",
    "健全应急预案",
)
GOALS_ZH = (
    "确保各项任务按期完成",
    "推动高质量发展",
    "切实增强群众获得感",
    "为建设共同富裕示范区贡献力量",
    "不断提升治理能力和治理水平",
    "营造良好发展环境",
    "形成齐抓共管的工作格局",
)
PLACES_ZH = (
    "区行政服务中心",
    "区政府第一会议室",
    "滨江智慧新天地",
    "白马湖生态创意城",
    "物联网产业园",
    "高新区孵化器",
)
UNITS_ZH = ("家", "个", "项", "处", "人次", "场")
TITLE_FORMS_ZH = (
    "{org}{verb}{topic}工作会议",
    "关于印发《{topic}工作实施方案》的通知",
    "{leader}调研{topic}工作",
    "{org}扎实开展{topic}专项行动",
    "区政府召开常务会议研究{topic}等事项",
    "关于做好{year}年度{topic}工作的通知",
    "{org}举办{topic}专题培训班",
    "我区{topic}工作取得阶段性成效",
    "{org}关于{topic}工作情况的公示",
)

TOPICS_EN = (
    "maker spaces",
    "digital economy",
    "talent introduction",
    "ecological protection",
    "smart city construction",
    "business environment",
    "flood prevention",
    "community governance",
    "innovation and entrepreneurship",
    "industrial upgrading",
    "public cultural services",
    "urban renewal",
)
ORGS_EN = (
    "Binjiang District Government",
    "District Science and Technology Bureau",
    "District Commerce Bureau",
    "Changhe Sub-district",
    "Xixing Sub-district",
    "District Development and Reform Bureau",
)
TITLE_FORMS_EN = (
    "{org} Holds Special Meeting on {Topic}",
    "Binjiang District Promotes the Development of {Topic}",
    "Delegation Visits Binjiang to Learn About {Topic}",
    "{org} Launches New Measures for {Topic}",
    "Forum on {Topic} Held in Binjiang",
)
SENTENCES_EN = (
    "On {d} {m}., the {org} held a meeting to study the work of {topic}.",
    "Officials from relevant departments attended the meeting and reported on recent progress.",
    "Till now, there have been {n} projects related to {topic} in the whole district.",
    "The scale of funds introduced reaches {x} billion Yuan, and {n} enterprises have been incubated.",
    "It was pointed out that {topic} is a key task of the innovation-driven development strategy.",
    "Participants visited several enterprises and listened to introductions about relevant situations.",
    "The next step is to optimize services, strengthen platforms and introduce supporting policies.",
    "The district will continue to create a good environment for {topic}.",
    "He emphasized that all departments should cooperate closely and make solid progress.",
)
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")


def zh_title(rng: random.Random, year: int) -> str:
    """A Chinese release title."""
    form = rng.choice(TITLE_FORMS_ZH)
    return form.format(
        org=rng.choice(ORGS_ZH),
        verb=rng.choice(VERBS_ZH),
        topic=rng.choice(TOPICS_ZH),
        leader=rng.choice(LEADERS_ZH),
        year=year,
    )


def _zh_sentence(rng: random.Random, topic: str, leaders: tuple[str, ...], month: int, day: int) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return f"{month}月{day}日，{rng.choice(leaders)}在{rng.choice(PLACES_ZH)}主持召开{topic}工作推进会。"
    if kind == 1:
        return (
            f"{rng.choice(leaders)}指出，{topic}是当前的一项重点工作，各部门要{rng.choice(MEASURES_ZH)}，"
            f"{rng.choice(MEASURES_ZH)}，{rng.choice(GOALS_ZH)}。"
        )
    if kind == 2:
        return (
            f"截至目前，全区已累计完成相关项目{rng.randint(3, 480)}{rng.choice(UNITS_ZH)}，"
            f"完成投资{rng.randint(1, 99)}.{rng.randint(1, 9)}亿元，同比增长{rng.randint(2, 35)}%。"
        )
    if kind == 3:
        return (
            f"会议强调，要{rng.choice(MEASURES_ZH)}；要{rng.choice(MEASURES_ZH)}；"
            f"要{rng.choice(MEASURES_ZH)}，{rng.choice(GOALS_ZH)}。"
        )
    if kind == 4:
        first, second = rng.sample(ORGS_ZH, 2)
        return f"{first}、{second}等单位负责人参加会议，并就{topic}工作作了交流发言。"
    return f"下一步，{rng.choice(ORGS_ZH)}将{rng.choice(MEASURES_ZH)}，{rng.choice(GOALS_ZH)}。"


def zh_paragraphs(rng: random.Random, count: int, month: int, day: int, gbk_only: bool) -> list[str]:
    """`count` Chinese paragraphs; with `gbk_only` the first names a leader written with 镕/堃/喆."""
    topic = rng.choice(TOPICS_ZH)
    leaders = LEADERS_ZH + (LEADERS_GBK_ONLY if gbk_only else ())
    paragraphs = []
    for k in range(count):
        sentences = [_zh_sentence(rng, topic, leaders, month, day) for _ in range(rng.randint(2, 4))]
        if k == 0 and gbk_only:
            sentences.insert(0, f"{month}月{day}日，副区长王镕一行赴基层调研{topic}工作。")
        paragraphs.append("".join(sentences))
    return paragraphs


def en_title(rng: random.Random) -> str:
    """An English release title."""
    topic = rng.choice(TOPICS_EN)
    return rng.choice(TITLE_FORMS_EN).format(org=rng.choice(ORGS_EN), Topic=topic.title())


def en_paragraphs(rng: random.Random, count: int, month: int) -> list[str]:
    """`count` plain English paragraphs."""
    topic = rng.choice(TOPICS_EN)
    out = []
    for _ in range(count):
        sentences = [
            rng.choice(SENTENCES_EN).format(
                d=rng.randint(1, 28),
                m=MONTHS_EN[month - 1],
                org=rng.choice(ORGS_EN),
                topic=topic,
                n=rng.randint(5, 300),
                x=f"{rng.randint(1, 20)}.{rng.randint(100, 999)}",
            )
            for _ in range(rng.randint(2, 5))
        ]
        out.append(" ".join(sentences))
    return out
