package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// glossary ties Chinese and English names of the same clinical idea to one
// concept feature, so that a question in one language finds a hospital
// document written only in the other. Guideline entries carry both languages
// already; this matters for single-language documents.
var glossary = map[string][]string{
	"osteoporosis":    {"osteoporosis", "osteoporotic", "骨质疏松", "骨质疏松症"},
	"osteopenia":      {"osteopenia", "low bone mass", "骨量减少", "低骨量", "骨量低", "骨量低下"},
	"bmd":             {"bone mineral density", "bone density", "bmd", "骨密度"},
	"dxa":             {"dxa", "absorptiometry", "双能X线"},
	"tscore":          {"t-score", "t score", "T值"},
	"fracture":        {"fracture", "骨折"},
	"fragility":       {"fragility fracture", "脆性骨折"},
	"hipfx":           {"hip fracture", "髋部骨折"},
	"vertebral":       {"vertebral", "vertebra", "椎体"},
	"bisphosphonate":  {"bisphosphonate", "双膦酸盐"},
	"alendronate":     {"alendronate", "阿仑膦酸钠"},
	"zoledronate":     {"zoledronic acid", "zoledronate", "唑来膦酸"},
	"denosumab":       {"denosumab", "地舒单抗"},
	"teriparatide":    {"teriparatide", "特立帕肽"},
	"abaloparatide":   {"abaloparatide", "阿巴洛肽"},
	"romosozumab":     {"romosozumab", "罗莫佐单抗"},
	"raloxifene":      {"raloxifene", "雷洛昔芬"},
	"calcitonin":      {"calcitonin", "降钙素"},
	"vitamind":        {"vitamin d", "维生素D", "25(oh)d", "25-hydroxyvitamin d", "25羟维生素D"},
	"calcium":         {"calcium", "钙剂", "钙"},
	"holiday":         {"drug holiday", "药物假期"},
	"glucocorticoid":  {"glucocorticoid", "corticosteroid", "prednisone", "prednisolone", "steroid", "糖皮质激素", "激素", "泼尼松", "强的松"},
	"frax":            {"frax"},
	"osta":            {"osta"},
	"falls":           {"falls", "fall", "跌倒"},
	"exercise":        {"exercise", "运动", "锻炼"},
	"vte":             {"venous thromboembolism", "vte", "静脉血栓栓塞", "thromboprophylaxis", "thrombosis", "anticoagulation", "血栓", "抗凝"},
	"dvt":             {"deep vein thrombosis", "dvt", "深静脉血栓"},
	"pe":              {"pulmonary embolism", "pe", "肺栓塞"},
	"prophylaxis":     {"prophylaxis", "prevention", "预防"},
	"lmwh":            {"low-molecular-weight heparin", "lmwh", "低分子肝素"},
	"aspirin":         {"aspirin", "阿司匹林"},
	"rivaroxaban":     {"rivaroxaban", "利伐沙班"},
	"apixaban":        {"apixaban", "阿哌沙班"},
	"ipc":             {"intermittent pneumatic compression", "pneumatic compression", "compression stockings", "stockings", "间歇充气加压", "充气加压", "弹力袜"},
	"bleeding":        {"bleeding", "hemorrhage", "出血"},
	"arthroplasty":    {"arthroplasty", "joint replacement", "hip replacement", "knee replacement", "关节置换", "关节置换术"},
	"hip":             {"hip", "髋", "髋关节"},
	"knee":            {"knee", "膝", "膝关节"},
	"caprini":         {"caprini"},
	"vertebroplasty":  {"vertebroplasty", "pvp", "椎体成形术", "椎体成形"},
	"kyphoplasty":     {"kyphoplasty", "balloon kyphoplasty", "pkp", "椎体后凸成形术", "后凸成形术"},
	"cement":          {"cement", "骨水泥"},
	"leakage":         {"leakage", "leak", "渗漏"},
	"compression":     {"compression fracture", "压缩性骨折", "压缩骨折"},
	"dcm":             {"cervical myelopathy", "dcm", "脊髓型颈椎病", "cord compression", "颈髓受压", "脊髓受压", "mjoa", "opll", "ossification of the posterior longitudinal ligament", "后纵韧带骨化", "K线", "颈髓"},
	"laminoplasty":    {"laminoplasty", "椎板成形术", "椎管成形术", "椎管扩大成形术", "单开门", "双开门"},
	"axialpain":       {"axial pain", "axial neck pain", "轴性痛", "轴性症状", "轴性颈肩痛", "轴性颈痛", "颈肩痛"},
	"neckpain":        {"neck pain", "颈痛"},
	"surgery":         {"surgery", "operation", "手术"},
	"anterior":        {"anterior", "前路"},
	"posterior":       {"posterior", "后路"},
	"rehab":           {"rehabilitation", "康复"},
	"postmenopausal":  {"postmenopausal", "绝经后"},
	"men":             {"men", "male", "男性"},
	"women":           {"women", "female", "女性"},
	"treatment":       {"treatment", "therapy", "治疗"},
	"diagnosis":       {"diagnosis", "诊断"},
	"screening":       {"screening", "筛查"},
	"risk":            {"risk", "风险"},
	"fls":             {"fracture liaison", "骨折联络", "骨折联络服务"},
	"turnover":        {"bone turnover marker", "p1np", "ctx", "骨转换标志物"},
	"zscore":          {"z-score", "z score", "Z值"},
	"myelopathy":      {"myelopathy", "脊髓病", "颈椎病"},
	"dcmsigns":        {"clumsy hands", "unsteady gait", "hoffmann sign", "hoffmann", "手笨", "走路不稳", "步态不稳"},
	"arthroscopy":     {"arthroscopy", "arthroscopic", "关节镜"},
	"heightloss":      {"height loss", "身高变矮", "身高降低"},
	"veryhigh":        {"very high risk", "very high fracture risk", "极高风险", "极高危"},
	"hrt":             {"hormone therapy", "hormone replacement", "menopausal hormone therapy", "绝经激素治疗", "激素替代治疗", "hrt"},
	"tibolone":        {"tibolone", "替勃龙"},
	"onj":             {"osteonecrosis of the jaw", "jaw osteonecrosis", "颌骨坏死"},
	"aff":             {"atypical femoral fracture", "atypical femur fracture", "非典型股骨骨折"},
	"dental":          {"dental", "dentist", "teeth", "tooth", "牙科", "看牙", "牙齿", "口腔"},
	"differential":    {"differential diagnosis", "mimic", "mistaken for", "鉴别诊断", "误诊"},
	"rapid":           {"rapid", "rapidly", "quickly", "快速", "迅速"},
	"contraindicated": {"contraindicated", "contraindication", "禁忌", "禁用"},
	"daily":           {"daily", "per day", "每日", "每天"},
	"firstline":       {"first-line", "first line", "initial treatment", "首选", "一线", "初始治疗"},
	"symptoms":        {"symptom", "symptoms", "presentation", "表现", "症状"},
	"indication":      {"indication", "indications", "indicated", "适应证", "适应症", "指征"},
	"bonehealth":      {"bone health", "骨健康", "骨骼健康"},
	"recentfx":        {"recent fracture", "imminent risk", "imminent fracture risk", "近期骨折", "迫近风险"},
	"contraceptive":   {"contraceptive", "contraceptives", "oestrogen", "estrogen", "避孕药", "雌激素"},
	"cervical":        {"cervical spine", "cervical decompression", "颈椎"},
	"trialname":       {"vertos", "vapour", "horizon", "freedom trial"},
	// Guideline bodies: a question naming one is about the corpus. NICE and
	// ASH are left out because they are also ordinary English words.
	"guideline": {"nogg", "bhof", "aace", "iof", "accp", "aaos", "cirse", "ects", "csobmr"},
}

// genericConcepts are too broad to show that a question is about the
// domain: "treatment" or "治疗" appear in questions about anything.
var genericConcepts = map[string]bool{
	"treatment": true, "diagnosis": true, "risk": true, "surgery": true, "screening": true,
	"prophylaxis": true, "men": true, "women": true, "fracture": true, "exercise": true,
	"bleeding": true, "anterior": true, "posterior": true, "rehab": true,
	"hip": true, "knee": true, "dental": true, "differential": true, "rapid": true,
	"contraindicated": true, "daily": true, "firstline": true, "symptoms": true, "indication": true,
}

// analysisVersion changes whenever the code that turns text into terms
// changes (the vocabulary is hashed by Fingerprint itself). Version 2 adds
// single Chinese characters to the lexical terms; version 3 keeps T- and
// Z-scores as single terms; version 4 adds glossary concepts to the lexical
// terms; version 5 matches glossary phrases of any length (it stopped at
// three words, missing "low-molecular-weight heparin").
const analysisVersion = 5

// ConceptName returns a concept's first name in lang (zh or en), or the ID
// when it has none in that language.
func ConceptName(id, lang string) string {
	for _, name := range glossary[id] {
		if hasHan(name) == (lang == "zh") {
			return name
		}
	}
	return id
}

// Fingerprint identifies the analysis code version, lexicon, stop words and
// glossary: anything that changes the terms or concepts of a text changes
// it, so an index built with other analysis can be recognised and refused.
func Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "v %d\n", analysisVersion)
	ids := make([]string, 0, len(glossary))
	for id := range glossary {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "g %s %q %v\n", id, glossary[id], genericConcepts[id])
	}
	fmt.Fprintf(h, "w %q\n", domainWords)
	for _, m := range []map[string]bool{enStop, zhStop} {
		words := make([]string, 0, len(m))
		for w := range m {
			words = append(words, w)
		}
		sort.Strings(words)
		fmt.Fprintf(h, "s %q\n", words)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
