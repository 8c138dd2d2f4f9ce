"""Deterministic Chinese and English text for titles, bodies, sources and names (all GBK-encodable)."""

from __future__ import annotations

import random

DISTRICTS = ["滨江", "西湖", "上城", "拱墅", "萧山", "余杭", "临平", "钱塘", "富阳", "临安", "鹿城", "龙湾", "瓯海",
             "洞头", "柯桥", "越城", "婺城", "金东", "椒江", "黄岩", "路桥", "定海", "普陀", "南浔", "吴兴"]
CITIES = ["杭州市", "温州市", "绍兴市", "金华市", "台州市", "舟山市", "湖州市", "宁波市"]

COLUMN_NAMES = ["区政要闻", "部门动态", "乡镇街道", "通知公告", "政策文件", "规划计划", "人事信息", "财政资金",
                "政府会议", "图片新闻", "媒体聚焦", "便民服务", "公示公告", "统计数据", "应急管理", "招标采购",
                "重点工作", "建议提案", "政策解读", "民生实事"]
PARENT_NAMES = ["政务公开", "信息公开", "走进本区", "互动交流", "专题专栏"]
SIDE_NAMES = ["热点推荐", "最新信息", "图片报道", "专题信息", "今日关注"]

SUBJECTS = ["区政府", "区发展和改革局", "区财政局", "区教育局", "区卫生健康局", "区住房和城乡建设局", "区市场监管局",
            "区生态环境分局", "区农业农村局", "区文化和广电旅游体育局", "区民政局", "区人力社保局", "区应急管理局",
            "区自然资源和规划分局", "区交通运输局", "区审计局", "区统计局", "区司法局", "区科技局", "区商务局"]
TOPICS = ["优化营商环境", "安全生产专项整治", "城乡环境综合整治", "垃圾分类", "数字化改革", "乡村振兴", "义务教育",
          "医疗保障", "住房保障", "防汛防台", "疫情防控", "民生实事项目", "科技创新", "人才引进", "老旧小区改造",
          "河长制", "消防安全", "食品安全", "文明城市创建", "政务服务", "耕地保护", "养老服务", "交通治堵"]
ACTIONS = ["关于印发", "关于开展", "关于做好", "关于进一步加强", "关于公布", "关于征求", "召开", "部署", "推进",
           "调研", "检查", "通报"]
TAILS = ["工作方案的通知", "实施意见", "工作会议", "专项行动", "推进会", "情况的通报", "意见的公告", "工作的通知",
         "名单的公示", "有关事项的通知"]
SENTENCE_PARTS = ["为深入贯彻落实党中央、国务院决策部署", "根据上级有关文件精神", "结合我区实际", "经区政府研究同意",
                  "会议指出", "会议强调", "要进一步提高思想认识", "切实增强责任感和紧迫感", "各部门要加强协调配合",
                  "确保各项工作落到实处", "截至目前", "全区共完成", "下一步", "将继续深化", "持续推进", "不断提升",
                  "群众满意度", "现将有关事项通知如下", "请各单位认真贯彻执行", "特此通知", "广泛听取社会各界意见",
                  "进一步规范工作流程", "加快形成长效机制", "切实保障人民群众生命财产安全", "扎实推进各项任务"]
SOURCES = [*SUBJECTS, "本站原创", "区政府办公室", "区融媒体中心", "区新闻中心", "浙江日报", "区委宣传部"]
PERSONS = ["王建华", "李明", "张伟", "陈丽", "刘洋", "杨帆", "赵强", "黄敏", "周杰", "吴芳"]
FILE_WORDS = ["申报表", "汇总表", "实施细则", "名单", "预算公开表", "征求意见稿", "评分标准", "报名表", "附件"]

EN_SUBJECTS = ["CPPCC Chairman Meeting", "District Government", "Standing Committee", "High-tech Zone",
               "Bureau of Commerce", "Science and Technology Bureau", "Maker Space Alliance",
               "Investment Promotion Office"]
EN_ACTIONS = ["to Inspect", "Holds Forum on", "Launches", "Reviews", "Promotes", "Signs Agreement on"]
EN_OBJECTS = ["Maker Spaces", "Innovation Services", "Digital Economy", "Talent Policies", "Industrial Parks",
              "Venture Capital", "Smart City Projects", "Cross-border E-commerce"]
EN_SENTENCES = ["The meeting was held to inspect the deep development work of maker spaces.",
                "Responsible persons introduced the relevant situations and existing problems.",
                "Till now, there have been 38 maker spaces in the whole district.",
                "An important novel force is formed to incubate technological enterprises.",
                "Industry development must be advanced by combining our own advantages.",
                "The inspection team visited numerous incubators located at Inno Ave.",
                "He emphasized that services should be optimized and capitals strengthened.",
                "The scale of various funds introduced reaches 13.786 billion Yuan."]


def zh_title(rng: random.Random) -> str:
    """A plausible release title, 10-40 characters."""
    subject = rng.choice(SUBJECTS)
    return f"{subject}{rng.choice(ACTIONS)}{rng.choice(TOPICS)}{rng.choice(TAILS)}"


def en_title(rng: random.Random) -> str:
    """An English release title like the seed page's."""
    return f"{rng.choice(EN_SUBJECTS)} of Binjiang District {rng.choice(EN_ACTIONS)} {rng.choice(EN_OBJECTS)}"


def zh_paragraph(rng: random.Random, serial: int) -> str:
    """One paragraph of 3-6 clauses; ``serial`` makes starts and ends unique within a release."""
    parts = rng.sample(SENTENCE_PARTS, rng.randint(3, 6))
    number = rng.randint(2, 980)
    return f"{parts[0]}，{'，'.join(parts[1:])}，第{serial}项任务完成{number}件。"


def en_paragraph(rng: random.Random, serial: int) -> str:
    """One English paragraph of 2-4 sentences."""
    sentences = rng.sample(EN_SENTENCES, rng.randint(2, 4))
    return f"Item {serial}: " + " ".join(sentences)


def gbk_safe(text: str) -> str:
    """``text`` itself; raises if it is not encodable as GBK (every pool above must be)."""
    text.encode("gbk")
    return text
