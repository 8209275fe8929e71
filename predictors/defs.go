package predictors

// Definition is a predictor: what it predicts, for whom, from what.
type Definition struct {
	ID         string `json:"id"`
	Title      Text   `json:"title"`
	Outcome    Text   `json:"outcome"`
	Population Text   `json:"population"`
	Schema     Schema `json:"features"`
	// BaseRate is the outcome rate the synthetic cohort is drawn at, with
	// its source.
	BaseRate       float64 `json:"base_rate"`
	BaseRateSource string  `json:"base_rate_source"`
	// A hospital's own predictor (a definition file): its intended use,
	// who answers for it, and the draft orders that offer it in a card.
	Hospital    bool        `json:"hospital,omitempty"`
	IntendedUse Text        `json:"intended_use,omitzero"`
	Owner       string      `json:"owner,omitempty"`
	OrderCodes  []OrderCode `json:"order_codes,omitempty"`
}

var (
	volumeUnits = map[string]float64{"ml": 1, "mL": 1, "cc": 1}
	hourUnits   = map[string]float64{"hours": 1, "h": 1, "minutes": 1.0 / 60, "min": 1.0 / 60}
	bmdUnits    = map[string]float64{"g/cm2": 1, "g/cm²": 1, "mg/cm2": 0.001}
	ddimerUnits = map[string]float64{"mg/L FEU": 1, "ug/mL FEU": 1, "µg/mL FEU": 1, "ng/mL FEU": 0.001}
)

func number(name, unit string, min, max, def float64, required bool, units map[string]float64, en, zh string, sources ...string) Feature {
	return Feature{Name: name, Type: Number, Unit: unit, Min: min, Max: max, Default: def, Required: required,
		units: units, Description: Text{en, zh}, Sources: sources}
}

func flag(name string, required bool, en, zh string, sources ...string) Feature {
	return Feature{Name: name, Type: Bool, Min: 0, Max: 1, Required: required, Description: Text{en, zh}, Sources: sources}
}

func category(name string, levels []string, required bool, en, zh string, sources ...string) Feature {
	return Feature{Name: name, Type: Category, Levels: levels, Max: float64(len(levels) - 1), Required: required,
		Description: Text{en, zh}, Sources: sources}
}

func integer(f Feature) Feature {
	f.Integer = true
	return f
}

const (
	srcHan2023    = "Han Y, Cai L, Feng X. Acta Anat Sin 2023;54(6):710-5 (236 PVP patients, 24.6% leakage)"
	srcLi2021     = "Li W et al. Front Public Health 2021;9:812023 (385 PVP patients)"
	srcZhang2020  = "Zhang TY et al. BMC Musculoskelet Disord 2020;21:792 (268 patients, 32.5% leakage)"
	srcCleft      = "160 patients / 167 vertebrae: intravertebral cleft OR 5.215, basivertebral foramen OR 3.357, cement volume OR 2.519 (full citation not available to the project)"
	srcPKP517     = "PKP, 517 patients, 13.9% leakage: low BMD OR 5.605, cortical defect OR 3.115 (full citation not available to the project)"
	srcZhang2015  = "Zhang ZH et al. BMC Musculoskelet Disord 2015 (systematic review): older age, female sex, higher BMI, bilateral surgery, surgery over 2 h"
	srcJOSR2019   = "J Orthop Surg Res 2019 (15,326 arthroplasties): DVT 0.48%; TKA, age over 70, ambulation at 72 h or later"
	srcHuang2016  = "Huang L et al. Eur J Med Res 2016;21:13: hypertension OR 2.89 (2.18-3.83)"
	srcWang2023   = "Wang X et al. Clin Appl Thromb Hemost 2023;29:10760296221139263 (6,897 arthroplasties, DVT 16.8%)"
	srcDing2023   = "Ding R et al. Clin Appl Thromb Hemost 2023 (doi 10.1177/10760296231186145): D-dimer among main features"
	srcCaprini    = "Caprini JA. Dis Mon 2005;51:70-78: history of DVT/PE scores 3 points"
	srcStacking   = "DCM stacking-ensemble study: preoperative axial pain, JOA recovery rate, C2-C7 Cobb angle, HADS-D, age (cohort size and full citation not available to the project)"
	srcNeurospine = "Neurospine 2024: preoperative neck pain OR 1.49 per point (1.12-1.99); central canal stenosis OR 17.93; K-line positive in flexion OR 0.11"
	srcKimura2018 = "Kimura A et al. Spine 2018: 51 of 156 (32%) NRS >= 4 at 2 years; current smoking, baseline neck pain"
	srcZuo2022    = "Zuo KK et al. Front Surg 2022;9:973924: C2 involvement and T1 slope"
	srcCho2010    = "Cho CB et al. J Korean Neurosurg Soc 2010;47:107: C7 spinous process preserved 12.5% vs sacrificed 73.3% late axial pain"
	srcFan2024    = "Fan X et al. 2024 (preprint, 1,982 laminoplasty patients): age, mJOA"
	srcMultiACDF  = "J Orthop Surg Res 2019 (multilevel ACDF): 27.3% axial pain; preoperative neck pain and kyphosis"
)

// Definitions are the shipped predictors.
var Definitions = []Definition{
	{
		ID:         "cement-leakage",
		Title:      Text{"Bone-cement leakage after vertebroplasty or kyphoplasty", "椎体成形术/后凸成形术后骨水泥渗漏"},
		Outcome:    Text{"Any cement leakage seen on postoperative imaging", "术后影像学发现的任何骨水泥渗漏"},
		Population: Text{"Adults treated by PVP or PKP for osteoporotic vertebral compression fracture", "因骨质疏松性椎体压缩骨折行PVP或PKP的成人"},
		BaseRate:   0.246, BaseRateSource: srcHan2023,
		Schema: Schema{
			number("age_years", "years", 40, 110, 72, true, nil, "Age", "年龄", srcHan2023+": age over 71 independent factor"),
			category("sex", []string{"female", "male"}, false, "Sex (for subgroup reporting)", "性别（用于亚组报告）"),
			number("bmd_g_cm2", "g/cm2", 0.2, 1.6, 0.7, true, bmdUnits, "Bone mineral density (DXA)", "骨密度（DXA）",
				srcHan2023+": BMD <= 0.67 g/cm2", srcPKP517),
			integer(number("genant_grade", "grade", 1, 3, 2, true, nil, "Genant grade of the fractured vertebra (1 mild, 2 moderate, 3 severe)",
				"骨折椎体Genant分级（1轻度、2中度、3重度）", srcHan2023+": severe compression", srcZhang2020)),
			number("cement_volume_ml", "ml", 0.5, 15, 4, true, volumeUnits, "Planned injected cement volume", "计划注入骨水泥量",
				srcLi2021, srcHan2023+": volume over 4.4 ml", srcCleft),
			number("days_to_surgery", "days", 0, 365, 7, true, nil, "Days from fracture to surgery", "骨折至手术天数",
				srcLi2021, srcZhang2020+": delayed surgery (intradiscal leakage)"),
			flag("multiple_fractures", true, "More than one fractured vertebra", "多发椎体骨折", srcLi2021),
			flag("intravertebral_cleft", true, "Intravertebral cleft on imaging", "影像学椎体内裂隙", srcCleft, srcZhang2020),
			flag("basivertebral_foramen", false, "Large basivertebral foramen on CT", "CT示椎基底静脉孔", srcCleft),
			flag("cortical_defect", true, "Cortical, endplate or posterior-wall defect", "皮质/终板/后壁不完整", srcPKP517, srcHan2023),
			flag("low_viscosity_cement", false, "Low-viscosity cement", "低黏度骨水泥", srcHan2023),
			category("procedure", []string{"pkp", "pvp"}, true, "Kyphoplasty (PKP) or vertebroplasty (PVP)", "椎体后凸成形术（PKP）或椎体成形术（PVP）",
				srcZhang2020+": venous leakage more likely with PVP than PKP"),
		},
	},
	{
		ID:         "vte-arthroplasty",
		Title:      Text{"DVT/PE after total hip or knee arthroplasty", "全髋/全膝关节置换术后DVT/PE"},
		Outcome:    Text{"Deep vein thrombosis or pulmonary embolism during the admission", "住院期间发生深静脉血栓或肺栓塞"},
		Population: Text{"Adults having primary total hip or knee arthroplasty", "初次全髋或全膝关节置换的成人"},
		BaseRate:   0.168, BaseRateSource: srcWang2023,
		Schema: Schema{
			number("age_years", "years", 18, 110, 65, true, nil, "Age", "年龄", srcZhang2015, srcJOSR2019),
			category("sex", []string{"male", "female"}, true, "Sex", "性别", srcZhang2015),
			number("bmi_kg_m2", "kg/m2", 12, 70, 26, true, nil, "Body-mass index", "体重指数", srcZhang2015),
			category("joint", []string{"hip", "knee"}, true, "Joint replaced", "置换关节", srcJOSR2019),
			flag("bilateral", true, "Bilateral surgery", "双侧手术", srcZhang2015),
			number("surgery_hours", "hours", 0.3, 12, 1.5, true, hourUnits, "Duration of surgery", "手术时长", srcZhang2015),
			flag("hypertension", true, "Hypertension", "高血压", srcHuang2016),
			flag("prior_vte", true, "Previous DVT or PE", "既往DVT或PE", srcCaprini),
			number("d_dimer_mg_l_feu", "mg/L FEU", 0, 50, 0.5, false, ddimerUnits, "Preoperative D-dimer", "术前D-二聚体", srcDing2023),
			number("hours_to_ambulation", "hours", 0, 240, 24, false, hourUnits, "Planned hours from surgery to walking", "术后至下地行走的计划时间", srcJOSR2019),
		},
	},
	{
		ID:         "dcm-axial-pain",
		Title:      Text{"Axial neck pain after surgery for degenerative cervical myelopathy", "脊髓型颈椎病术后轴性颈痛"},
		Outcome:    Text{"Axial neck pain NRS 4 or more after surgery", "术后轴性颈痛NRS评分≥4"},
		Population: Text{"Adults having decompression for degenerative cervical myelopathy", "因脊髓型颈椎病行减压手术的成人"},
		BaseRate:   0.32, BaseRateSource: srcKimura2018,
		Schema: Schema{
			number("age_years", "years", 18, 100, 60, true, nil, "Age", "年龄", srcStacking, srcFan2024),
			category("sex", []string{"female", "male"}, false, "Sex (for subgroup reporting)", "性别（用于亚组报告）"),
			integer(number("preop_neck_pain_nrs", "points", 0, 10, 3, true, nil, "Preoperative neck pain, NRS 0-10", "术前颈痛NRS评分（0-10）",
				srcNeurospine, srcKimura2018, srcStacking, srcMultiACDF)),
			number("mjoa", "points", 0, 18, 12, true, nil, "Preoperative mJOA score", "术前mJOA评分", srcFan2024),
			number("c2_c7_cobb_deg", "degrees", -40, 60, 12, true, nil, "C2-C7 Cobb angle (lordosis positive)", "C2-C7 Cobb角（前凸为正）", srcStacking, srcMultiACDF),
			integer(number("hads_depression", "points", 0, 21, 5, false, nil, "HADS depression score", "HADS抑郁评分", srcStacking)),
			number("t1_slope_deg", "degrees", 0, 60, 25, false, nil, "T1 slope", "T1倾斜角", srcZuo2022),
			flag("c2_involved", false, "Surgery involves C2", "手术累及C2", srcZuo2022),
			flag("c7_spinous_sacrificed", false, "C7 spinous process removed", "切除C7棘突", srcCho2010),
			flag("smoker", false, "Current smoker", "目前吸烟", srcKimura2018),
			flag("central_canal_stenosis", false, "Central canal stenosis", "中央椎管狭窄", srcNeurospine),
			category("approach", []string{"posterior-laminoplasty", "anterior"}, true, "Surgical approach", "手术入路", srcMultiACDF),
		},
	},
}

// Get returns a definition by ID: a shipped predictor or a registered
// hospital one.
func Get(id string) (Definition, bool) {
	for _, d := range Definitions {
		if d.ID == id {
			return d, true
		}
	}
	return registered(id)
}
