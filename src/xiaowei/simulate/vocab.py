"""Vocabularies of the simulator (词表): names, shop names, lenders, counterparties, memos.

Everything is invented: surnames and given-name characters are common ones, shop names are
built from common auspicious characters (字号), lenders carry the kinds of names real lenders
carry (bank, micro-loan company, consumer-finance company, online platform) so that the keyword
rules of the analysis layer meet realistic text. No real person or firm is described.
"""

from __future__ import annotations

import numpy as np

SURNAMES = np.array(
    list(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
    )
)
GIVEN = np.array(
    list(
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞斌宇浩凯俊峰波龙林雪梅琳晨欣怡婷佳慧颖鑫宏志海燕丹亮成金荣新春"
    )
)
SHOP_WORDS = np.array(
    [
        "鑫源",
        "恒泰",
        "盛达",
        "永兴",
        "顺发",
        "华丰",
        "隆昌",
        "嘉禾",
        "宏运",
        "金诚",
        "福满",
        "瑞丰",
        "兴旺",
        "和顺",
        "天成",
        "众诚",
        "万家",
        "聚福",
        "德隆",
        "祥和",
        "佳美",
        "新锐",
        "博远",
        "汇通",
        "益民",
        "富康",
        "长青",
        "开元",
        "安泰",
        "百川",
    ]
)
INDUSTRY_WORDS = {
    "trade": np.array(["商贸", "百货", "建材", "五金", "粮油", "副食品", "日用品"]),
    "manufacturing": np.array(["机械", "塑料制品", "服装加工", "五金制品", "包装", "模具"]),
    "service": np.array(["美容美发", "汽车维修", "家政服务", "洗衣", "摄影", "健身"]),
    "catering": np.array(["餐饮", "面馆", "火锅店", "小吃", "烧烤", "快餐"]),
    "agriculture": np.array(["养殖", "种植", "农业", "果蔬", "茶业", "水产"]),
    "ecommerce": np.array(["电子商务", "网络科技", "电商", "贸易"]),
}
LEGAL_FORMS = ("个体工商户", "有限责任公司", "合伙企业")
LEGAL_SUFFIX = {
    "个体工商户": ("商行", "经营部", "店"),
    "有限责任公司": ("有限公司",),
    "合伙企业": ("合伙企业",),
}
EDUCATION = ("小学及以下", "初中", "高中/中专", "大专", "本科及以上")
MARITAL = ("未婚", "已婚", "离异", "丧偶")


# Lenders (放贷机构): name, kind, PBOC institution-type code, reports to the credit bureau.
# Kinds: bank, microloan (小额贷款公司), consumer-finance (消费金融), platform (互联网平台,
# lending through a licensed bank or finance company), leasing (融资租赁), private (民间借贷).
LENDERS: tuple[tuple[str, str, str, bool], ...] = (
    ("中国工商银行", "bank", "11", True),
    ("中国建设银行", "bank", "11", True),
    ("中国农业银行", "bank", "11", True),
    ("招商银行", "bank", "11", True),
    ("浙江泰隆商业银行", "bank", "11", True),
    ("台州银行", "bank", "11", True),
    ("农村商业银行", "bank", "11", True),
    ("村镇银行", "bank", "12", True),
    ("浙江网商银行(网商贷)", "platform", "11", True),
    ("深圳前海微众银行(微粒贷)", "platform", "11", True),
    ("重庆蚂蚁消费金融(借呗)", "platform", "24", True),
    ("京东金条", "platform", "51", True),
    ("马上消费金融", "consumer-finance", "24", True),
    ("招联消费金融", "consumer-finance", "24", True),
    ("兴业小额贷款有限公司", "microloan", "51", True),
    ("恒信小额贷款有限公司", "microloan", "51", False),
    ("平安国际融资租赁", "leasing", "22", True),
    ("民间借贷", "private", "", False),
)
LENDER_NAMES = np.array([row[0] for row in LENDERS])
LENDER_KINDS = np.array([row[1] for row in LENDERS])
LENDER_CODES = np.array([row[2] for row in LENDERS])
LENDER_REPORTS = np.array([row[3] for row in LENDERS])


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` Chinese personal names: a surname and one or two given-name characters."""
    s = SURNAMES[rng.integers(0, len(SURNAMES), n)]
    g1 = GIVEN[rng.integers(0, len(GIVEN), n)]
    g2 = GIVEN[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.7
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1)).astype(object)


def id_check_digit(body17: str) -> str:
    """The check digit of an 18-digit resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return "10X98765432"[total % 11]
