"""The synthetic knowledge library (知识库): a few hundred drugs, service items and consumables with limits.

Written as CONTRACT.md's ``knowledge/items.csv`` and charged by ``fees.py``. Codes have the national shapes
(15-digit service items, 23-character drugs, C + 19 consumables) so the coding service finds them well formed;
limits are what real catalogues carry: one bed, consultation and nursing grade a day, daily maxima on drugs and
tests, panels that include their components (分解收费 when both are charged the same day), items for one sex or
an age band. Every fee category also has an item without a reference price, charged at what the hospital sets.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name: str
    kind: str  # drug, service, consumable
    category: str  # med_chrgitm_type 01..14
    price: int | None  # fen; None: no reference price (charged at the hospital's own price)
    sex_limit: int = 0  # 1 men only, 2 women only
    min_age: int | None = None
    max_age: int | None = None
    max_daily: int | None = None
    exclusive_with: tuple[str, ...] = ()

    def allowed(self, sex: int, years: int) -> bool:
        """Whether the item may be charged to a patient of this sex and age at admission."""
        if self.sex_limit and sex in (1, 2) and sex != self.sex_limit:
            return False
        return not ((self.min_age is not None and years < self.min_age)
                    or (self.max_age is not None and years > self.max_age))

    @property
    def limited(self) -> bool:
        return bool(self.sex_limit) or self.min_age is not None or self.max_age is not None


def _service(category: str, group: int, serial: int) -> str:
    return f"00{category}{group:02d}{serial:05d}0000"


# (category, name, price in yuan, max a day, sex, min age, max age); panels name their components by index below.
_SERVICES: tuple[tuple[str, str, str, int | None, int, int | None, int | None], ...] = (
    ("01", "床位费（三人间）", "45.00", 1, 0, None, None), ("01", "床位费（双人间）", "60.00", 1, 0, None, None),
    ("01", "床位费（单人间）", "120.00", 1, 0, None, None), ("01", "重症监护床位费", "180.00", 1, 0, None, None),
    ("01", "新生儿床位费", "40.00", 1, 0, None, 0),
    ("02", "住院诊察费", "20.00", 1, 0, None, None), ("02", "副主任医师查房诊察费", "30.00", 1, 0, None, None),
    ("02", "主任医师查房诊察费", "40.00", 1, 0, None, None),
    ("03", "胸部CT平扫", "260.00", 1, 0, None, None), ("03", "头颅CT平扫", "240.00", 1, 0, None, None),
    ("03", "上腹部CT增强", "680.00", 1, 0, None, None), ("03", "头颅磁共振平扫", "560.00", 1, 0, None, None),
    ("03", "腰椎磁共振平扫", "560.00", 1, 0, None, None), ("03", "常规心电图", "25.00", 3, 0, None, None),
    ("03", "动态心电图", "180.00", 1, 0, None, None), ("03", "心脏彩色多普勒超声", "220.00", 1, 0, None, None),
    ("03", "腹部彩超", "160.00", 1, 0, None, None), ("03", "胸部正位X线摄影", "60.00", 2, 0, None, None),
    ("03", "电子胃镜检查", "280.00", 1, 0, None, None), ("03", "肺功能检查", "150.00", 1, 0, None, None),
    ("03", "经阴道妇科彩超", "150.00", 1, 2, None, None), ("03", "前列腺彩超", "120.00", 1, 1, None, None),
    ("03", "骨密度测定", "90.00", 1, 0, 40, None),
    ("04", "血常规", "20.00", 2, 0, None, None), ("04", "尿常规", "15.00", 1, 0, None, None),
    ("04", "大便常规", "10.00", 1, 0, None, None), ("04", "C反应蛋白测定", "30.00", 2, 0, None, None),
    ("04", "降钙素原测定", "150.00", 1, 0, None, None), ("04", "凝血功能四项", "80.00", 1, 0, None, None),
    ("04", "血型鉴定", "25.00", 1, 0, None, None), ("04", "血气分析", "65.00", 4, 0, None, None),
    ("04", "肝功能全套", "96.00", 1, 0, None, None), ("04", "丙氨酸氨基转移酶测定", "7.00", 1, 0, None, None),
    ("04", "天门冬氨酸氨基转移酶测定", "7.00", 1, 0, None, None), ("04", "总胆红素测定", "6.50", 1, 0, None, None),
    ("04", "肾功能全套", "72.00", 1, 0, None, None), ("04", "肌酐测定", "8.00", 1, 0, None, None),
    ("04", "尿素测定", "6.00", 1, 0, None, None), ("04", "血脂全套", "60.00", 1, 0, None, None),
    ("04", "总胆固醇测定", "6.00", 1, 0, None, None), ("04", "甘油三酯测定", "6.00", 1, 0, None, None),
    ("04", "电解质六项", "45.00", 2, 0, None, None), ("04", "血清钾测定", "5.00", 2, 0, None, None),
    ("04", "血清钠测定", "5.00", 2, 0, None, None), ("04", "血糖测定", "6.00", 8, 0, None, None),
    ("04", "糖化血红蛋白测定", "60.00", 1, 0, None, None), ("04", "心肌酶谱", "90.00", 1, 0, None, None),
    ("04", "肌钙蛋白I测定", "80.00", 3, 0, None, None), ("04", "前列腺特异性抗原测定", "55.00", 1, 1, None, None),
    ("04", "游离前列腺特异性抗原测定", "55.00", 1, 1, None, None),
    ("04", "人乳头瘤病毒核酸检测", "180.00", 1, 2, None, None),
    ("04", "人绒毛膜促性腺激素测定", "40.00", 1, 2, None, None), ("04", "孕酮测定", "35.00", 1, 2, None, None),
    ("04", "新生儿胆红素测定", "20.00", 2, 0, None, 0), ("04", "肿瘤标志物全套", "320.00", 1, 0, 18, None),
    ("05", "静脉输液", "8.50", 6, 0, None, None), ("05", "静脉注射", "5.00", 6, 0, None, None),
    ("05", "肌肉注射", "3.00", 4, 0, None, None), ("05", "雾化吸入", "10.00", 4, 0, None, None),
    ("05", "吸氧", "3.00", 24, 0, None, None), ("05", "大换药", "30.00", 2, 0, None, None),
    ("05", "中换药", "20.00", 2, 0, None, None), ("05", "小换药", "12.00", 3, 0, None, None),
    ("05", "导尿", "15.00", 2, 0, None, None), ("05", "心电监护", "6.00", 24, 0, None, None),
    ("05", "血氧饱和度监测", "2.00", 24, 0, None, None), ("05", "针刺治疗", "25.00", 1, 0, None, None),
    ("05", "康复评定", "40.00", 1, 0, None, None), ("05", "新生儿蓝光治疗", "8.00", 24, 0, None, 0),
    ("05", "老年综合评估", "120.00", 1, 0, 65, None), ("05", "成人心理治疗", "80.00", 1, 0, 18, None),
    ("06", "腹腔镜下胆囊切除术", "1800.00", 1, 0, None, None), ("06", "阑尾切除术", "900.00", 1, 0, None, None),
    ("06", "经皮冠状动脉支架植入术", "3200.00", 1, 0, None, None),
    ("06", "髋关节置换术", "2800.00", 1, 0, 18, None), ("06", "白内障超声乳化摘除术", "1200.00", 1, 0, None, None),
    ("06", "剖宫产术", "1100.00", 1, 2, None, None), ("06", "经尿道前列腺电切术", "1600.00", 1, 1, None, None),
    ("06", "全身麻醉", "600.00", 1, 0, None, None), ("06", "椎管内麻醉", "350.00", 1, 0, None, None),
    ("06", "术中监测", "120.00", 1, 0, None, None),
    ("07", "一级护理", "35.00", 1, 0, None, None), ("07", "二级护理", "28.00", 1, 0, None, None),
    ("07", "三级护理", "20.00", 1, 0, None, None), ("07", "特级护理", "150.00", 1, 0, None, None),
    ("07", "新生儿护理", "40.00", 1, 0, None, 0), ("07", "留置导尿管护理", "10.00", 1, 0, None, None),
    ("07", "口腔护理", "8.00", 2, 0, None, None),
    ("12", "一般诊疗费", "10.00", 1, 0, None, None),
    ("13", "挂号费", "5.00", 1, 0, None, None),
    ("14", "病历工本费", "1.00", 1, 0, None, None), ("14", "空调费", "10.00", 1, 0, None, None),
    ("14", "取暖费", "8.00", 1, 0, None, None),
)
# Panels that include their components: charging both the same day is 分解收费.
_PANELS = {"肝功能全套": ("丙氨酸氨基转移酶测定", "天门冬氨酸氨基转移酶测定", "总胆红素测定"),
           "肾功能全套": ("肌酐测定", "尿素测定"), "血脂全套": ("总胆固醇测定", "甘油三酯测定"),
           "电解质六项": ("血清钾测定", "血清钠测定"), "静脉输液": ("静脉注射",),
           "全身麻醉": ("椎管内麻醉",), "大换药": ("中换药", "小换药"), "心电监护": ("血氧饱和度监测",)}

# Drugs: (ATC-like class of 5, name, unit prices of its specifications in yuan, max a day, sex, min age, max age).
_DRUGS: tuple[tuple[str, str, tuple[str, ...], int | None, int, int | None, int | None], ...] = (
    ("J01DD", "头孢曲松钠注射剂", ("12.36", "21.80"), 4, 0, None, None),
    ("J01DC", "头孢呋辛钠注射剂", ("9.80", "16.40"), 6, 0, None, None),
    ("J01CR", "哌拉西林他唑巴坦注射剂", ("38.50", "62.00"), 4, 0, None, None),
    ("J01MA", "左氧氟沙星注射液", ("15.60", "24.00"), 1, 0, 18, None),
    ("J01MA", "莫西沙星片", ("18.20",), 1, 0, 18, None),
    ("J01FA", "阿奇霉素片", ("3.40", "6.20"), 2, 0, None, None),
    ("J01XD", "甲硝唑注射液", ("2.10",), 3, 0, None, None),
    ("N02BE", "对乙酰氨基酚片", ("0.35", "0.60"), 8, 0, None, None),
    ("N02BE", "小儿对乙酰氨基酚混悬液", ("8.50",), 4, 0, None, 12),
    ("R05CB", "小儿氨酚黄那敏颗粒", ("1.20",), 3, 0, None, 14),
    ("M01AE", "布洛芬缓释胶囊", ("0.80", "1.50"), 2, 0, None, None),
    ("N02AX", "曲马多缓释片", ("2.90",), 4, 0, 18, None),
    ("C10AA", "阿托伐他汀钙片", ("3.15", "5.90"), 2, 0, None, None),
    ("C10AA", "瑞舒伐他汀钙片", ("2.60",), 1, 0, None, None),
    ("B01AC", "阿司匹林肠溶片", ("0.15", "0.30"), 3, 0, None, None),
    ("B01AC", "氯吡格雷片", ("3.20",), 4, 0, None, None),
    ("B01AB", "低分子肝素钠注射液", ("28.80", "36.00"), 2, 0, None, None),
    ("C07AB", "美托洛尔缓释片", ("1.20", "2.10"), 2, 0, None, None),
    ("C08CA", "氨氯地平片", ("0.90",), 2, 0, None, None),
    ("C09CA", "缬沙坦胶囊", ("1.80",), 2, 0, None, None),
    ("C03CA", "呋塞米注射液", ("0.85",), 6, 0, None, None),
    ("A02BC", "奥美拉唑注射剂", ("9.50", "14.20"), 2, 0, None, None),
    ("A02BC", "泮托拉唑肠溶片", ("3.30",), 2, 0, None, None),
    ("A10AB", "门冬胰岛素注射液", ("68.00",), 3, 0, None, None),
    ("A10BA", "二甲双胍片", ("0.25", "0.50"), 6, 0, 10, None),
    ("H02AB", "地塞米松磷酸钠注射液", ("0.60",), 4, 0, None, None),
    ("H02AB", "甲泼尼龙琥珀酸钠注射剂", ("24.00",), 4, 0, None, None),
    ("R03AC", "沙丁胺醇吸入气雾剂", ("22.00",), 1, 0, None, None),
    ("R03BB", "异丙托溴铵吸入溶液", ("3.80",), 4, 0, None, None),
    ("R05CB", "氨溴索注射液", ("4.60",), 3, 0, None, None),
    ("B05BA", "复方氨基酸注射液", ("32.00", "48.00"), 2, 0, None, None),
    ("B05BB", "氯化钠注射液", ("2.30", "3.10"), 6, 0, None, None),
    ("B05BA", "葡萄糖注射液", ("2.50", "3.40"), 6, 0, None, None),
    ("B05XA", "氯化钾注射液", ("0.70",), 6, 0, None, None),
    ("N05BA", "地西泮片", ("0.12",), 3, 0, None, None),
    ("N06AB", "舍曲林片", ("4.20",), 2, 0, 18, 75),
    ("N01AX", "丙泊酚注射液", ("36.00",), 4, 0, None, None),
    ("N01AH", "瑞芬太尼注射剂", ("78.00",), 2, 0, 18, None),
    ("G04CA", "坦索罗辛缓释胶囊", ("2.60",), 1, 1, None, None),
    ("G04CB", "非那雄胺片", ("3.80",), 1, 1, None, None),
    ("G03CA", "戊酸雌二醇片", ("1.85",), 2, 2, None, None),
    ("G03DA", "黄体酮注射液", ("4.50",), 2, 2, None, None),
    ("H01BB", "缩宫素注射液", ("2.20",), 4, 2, None, None),
    ("J07BC", "乙肝疫苗（新生儿）", ("15.00",), 1, 0, None, 0),
    ("B03XA", "重组人促红素注射液", ("58.00",), 1, 0, None, None),
    ("L01BC", "卡培他滨片", ("16.00",), 6, 0, 18, None),
    ("L01XA", "奥沙利铂注射剂", ("210.00",), 1, 0, 18, None),
    ("J02AC", "氟康唑胶囊", ("5.60",), 2, 0, None, None),
)
_PATENT = (  # 中成药 (11) and 中药饮片 (10): (category, class, name, prices, max a day)
    ("11", "A12BA", "复方丹参滴丸", ("0.42",), 30), ("11", "A06AB", "血塞通注射液", ("18.00",), 2),
    ("11", "A04BA", "连花清瘟胶囊", ("0.95",), 12), ("11", "A02CA", "丹红注射液", ("26.00",), 2),
    ("11", "A15AA", "银杏叶片", ("0.60",), 9), ("11", "A01AB", "安宫牛黄丸", ("98.00",), 1),
    ("10", "T1001", "黄芪饮片", ("0.18",), 60), ("10", "T1002", "当归饮片", ("0.32",), 30),
    ("10", "T1003", "党参饮片", ("0.25",), 30), ("10", "T1004", "白术饮片", ("0.15",), 30),
    ("10", "T1005", "茯苓饮片", ("0.12",), 30), ("10", "T1006", "甘草饮片", ("0.10",), 15),
)
_FORMS = ("A001", "B002", "C003")
# Consumables: (name, price in yuan, max a day, sex limit)
_CONSUMABLES: tuple[tuple[str, str, int | None, int], ...] = (
    ("一次性输液器", "3.20", 6, 0), ("静脉留置针", "18.00", 2, 0), ("一次性注射器", "0.60", 12, 0),
    ("一次性导尿包", "35.00", 2, 0), ("医用纱布敷料", "4.50", 6, 0), ("透明敷贴", "8.00", 4, 0),
    ("可吸收缝合线", "120.00", 4, 0), ("一次性使用吻合器", "2600.00", 2, 0), ("冠状动脉药物洗脱支架", "780.00", 3, 0),
    ("人工髋关节假体", "9800.00", 1, 0), ("人工晶体", "1500.00", 2, 0), ("腹腔镜穿刺器", "450.00", 4, 0),
    ("一次性吸氧管", "2.50", 2, 0), ("雾化面罩", "12.00", 2, 0), ("胃管", "16.00", 2, 0),
    ("中心静脉导管", "380.00", 1, 0), ("心电电极片", "0.80", 10, 0), ("一次性手术衣", "25.00", 6, 0),
    ("宫内节育器", "60.00", 1, 2), ("一次性阴道窥器", "6.00", 2, 2), ("前列腺电切环", "420.00", 2, 1),
    ("新生儿脐带夹", "6.00", 1, 0), ("医用弹力袜", "90.00", 2, 0), ("负压引流器", "85.00", 2, 0),
)
# The item without a reference price in each category (charged at the hospital's own price).
_OPEN_PRICED = {"01": "床位费（其他）", "02": "诊察费（其他）", "03": "检查费（其他项目）", "04": "化验费（其他项目）",
                "05": "治疗费（其他项目）", "06": "手术费（其他项目）", "07": "护理费（其他）", "08": "其他卫生材料",
                "09": "其他西药", "10": "其他中药饮片", "11": "其他中成药", "12": "一般诊疗费（其他）",
                "13": "挂号费（其他）", "14": "其他费用"}
_KIND = {"08": "consumable", "09": "drug", "10": "drug", "11": "drug"}


def _fen(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def catalogue() -> tuple[Item, ...]:
    """Every item of the library, in a fixed order (the same every run)."""
    items: list[Item] = []
    names: dict[str, str] = {}
    for serial, (category, name, price, daily, sex, low, high) in enumerate(_SERVICES, 1):
        code = _service(category, 1, serial)
        names[name] = code
        items.append(Item(code, name, "service", category, _fen(price), sex, low, high, daily))
    serial = 0
    for cls, name, prices, daily, sex, low, high in _DRUGS:
        for spec, price in enumerate(prices, 1):
            serial += 1
            for form in _FORMS[: 1 + serial % 2]:  # some drugs from two makers (forms), as catalogues list them
                code = f"X{cls}{serial:04d}{form}{spec:02d}01{(serial * 37) % 100000:05d}"
                items.append(Item(code, f"{name}（规格{spec}）", "drug", "09", _fen(price), sex, low, high, daily))
    for category, cls, name, prices, daily in _PATENT:
        for spec, price in enumerate(prices, 1):
            serial += 1
            code = f"Z{cls}{serial:04d}A001{spec:02d}01{(serial * 53) % 100000:05d}"
            items.append(Item(code, name, "drug", category, _fen(price), max_daily=daily))
    for n, (name, price, daily, sex) in enumerate(_CONSUMABLES, 1):
        items.append(Item(f"C{n % 14 + 1:02d}{n:017d}", name, "consumable", "08", _fen(price), sex, None, None,
                          daily))
    for category, name in _OPEN_PRICED.items():
        code = f"C9900000000000000{int(category):03d}" if category == "08" else (
            f"X{'V99ZZ' if category == '09' else 'V98ZZ'}99{category}A00199{category}00000"
            if category in ("09", "10", "11") else _service(category, 99, 1))
        items.append(Item(code, name, _KIND.get(category, "service"), category, None))
    pairs: dict[str, set[str]] = {}
    for panel, parts in _PANELS.items():
        pairs.setdefault(names[panel], set()).update(names[p] for p in parts)
    out = []
    for item in items:
        linked = pairs.get(item.code)
        out.append(item if not linked else replace(item, exclusive_with=tuple(sorted(linked))))
    return tuple(out)


def items_csv(items: tuple[Item, ...]) -> bytes:
    """CONTRACT.md's items.csv of the library."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "kind", "med_chrgitm_type", "price", "sex_limit", "min_age", "max_age",
                     "max_daily_cnt", "exclusive_with"])
    for i in items:
        writer.writerow([i.code, i.name, i.kind, i.category,
                         "" if i.price is None else f"{i.price // 100}.{i.price % 100:02d}", i.sex_limit or "",
                         "" if i.min_age is None else i.min_age, "" if i.max_age is None else i.max_age,
                         "" if i.max_daily is None else i.max_daily, ";".join(i.exclusive_with)])
    return out.getvalue().encode("utf-8")
