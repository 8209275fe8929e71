package cdshooks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/scores"
)

// Service IDs of the order services.
const (
	VTEID       = "orthocds-vte-arthroplasty"
	CementID    = "orthocds-cement-leakage"
	AxialPainID = "orthocds-axial-pain"
)

// orderPrefetch is what the order services read about the patient.
var orderPrefetch = map[string]string{
	"patient":      "Patient/{{context.patientId}}",
	"observations": "Observation?patient={{context.patientId}}",
	"conditions":   "Condition?patient={{context.patientId}}",
	"medications":  "MedicationRequest?patient={{context.patientId}}",
}

func vteService(hook string) *service {
	return &service{
		info: ServiceInfo{Hook: hook, ID: VTEID, Title: "OrthoCDS VTE prophylaxis for arthroplasty / 关节置换血栓预防",
			Description: "For a total hip or knee arthroplasty order: the Caprini score, the DVT/PE risk predictor with its explanation, " +
				"and guideline-cited prophylaxis options as draft orders.",
			Prefetch: orderPrefetch},
		cards: vteCards,
	}
}

func cementService() *service {
	return &service{
		info: ServiceInfo{Hook: "order-select", ID: CementID, Title: "OrthoCDS cement leakage / 骨水泥渗漏",
			Description: "For a vertebroplasty or kyphoplasty order: the bone-cement leakage predictor with its explanation, " +
				"technique points and the osteoporosis treatment that should follow.",
			Prefetch: orderPrefetch},
		cards: cementCards,
	}
}

func axialPainService() *service {
	return &service{
		info: ServiceInfo{Hook: "order-select", ID: AxialPainID, Title: "OrthoCDS axial neck pain / 颈椎术后轴性痛",
			Description: "For a cervical decompression order for degenerative cervical myelopathy: the postoperative axial neck pain " +
				"predictor with its explanation and what lowers the risk.",
			Prefetch: orderPrefetch},
		cards: axialPainCards,
	}
}

var (
	varicoseWords = []string{"varicose", "静脉曲张"}
	copdWords     = []string{"copd", "chronic obstructive", "慢阻肺", "慢性阻塞性肺"}
	ibdWords      = []string{"crohn", "ulcerative colitis", "inflammatory bowel", "克罗恩", "溃疡性结肠炎", "炎症性肠病"}
	bleedingWords = []string{"haemophilia", "hemophilia", "bleeding disorder", "von willebrand", "coagulopathy", "liver disease", "cirrhosis", "血友病", "出血性疾病", "凝血功能障碍", "肝病", "肝硬化"}
	smokerWords   = []string{"smoker", "tobacco", "吸烟"}
)

func vteCards(_ context.Context, c *call) ([]Card, error) {
	var cards []Card
	for _, o := range c.orders {
		if o.kind != HipArthroplasty && o.kind != KneeArthroplasty {
			continue
		}
		joint := map[string]string{HipArthroplasty: "hip", KneeArthroplasty: "knee"}[o.kind]
		jointZH := map[string]string{HipArthroplasty: "髋", KneeArthroplasty: "膝"}[o.kind]
		p := c.patient
		priorVTE := p.Has("vte-history")
		bleeding := p.HasCondition(bleedingWords...) || p.OnClass(patient.Antiplatelet)

		// Caprini from what the record holds.
		if p.AgeYears != nil {
			items := []string{"elective-lower-extremity-arthroplasty"}
			add := func(id string, ok bool) {
				if ok {
					items = append(items, id)
				}
			}
			add("history-of-vte", priorVTE)
			add("malignancy", p.Has("cancer"))
			add("varicose-veins", p.HasCondition(varicoseWords...))
			add("abnormal-pulmonary-function", p.HasCondition(copdWords...))
			add("inflammatory-bowel-disease", p.HasCondition(ibdWords...))
			if bmi := p.BMI(); bmi != nil {
				add("bmi-over-25", *bmi > 25)
			}
			r, err := scores.Caprini(scores.CapriniInput{AgeYears: p.AgeYears, Items: items})
			if err != nil {
				return nil, err
			}
			var lines []string
			for _, it := range r.Items {
				lines = append(lines, fmt.Sprintf("- %s: %d", it.Label, it.Points))
			}
			cards = append(cards, c.card("vte", Info,
				c.tr(fmt.Sprintf("Caprini %s for %s arthroplasty (%s)", f1(*r.Value), joint, r.Category),
					fmt.Sprintf("%s关节置换Caprini评分%s（%s）", jointZH, f1(*r.Value), r.Category)),
				c.tr("Items found in the record (items not recorded count 0):\n\n", "病历中找到的条目（未记录的条目按0分计）：\n\n")+strings.Join(lines, "\n")+"\n\n"+
					c.tr("Elective arthroplasty alone scores 5, the highest band, so the score does not decide whether to give prophylaxis; "+
						"added items (prior VTE, thrombophilia) may call for longer or combined prophylaxis.",
						"择期关节置换本身即得5分（最高风险级），因此评分不决定是否预防；其他危险因素（既往VTE、易栓症）提示可能需要延长或联合预防。"),
				"caprini-2005-bands", "caprini-2005-arthroplasty-use", "caprini-2005-five-points"))
		}

		// The DVT/PE predictor.
		in := newInputs(p)
		in.bmi(c.h.cfg.ValueSets)
		in.lab("d_dimer_mg_l_feu", "obs-ddimer", c.h.cfg.ValueSets)
		in.cat("joint", joint, fromOrder)
		in.flag("bilateral", o.bilateral, fromOrder)
		in.fact("hypertension", "hypertension")
		in.fact("prior_vte", "vte-history")
		in.recorded(o.inputs, "bmi_kg_m2", "surgery_hours", "d_dimer_mg_l_feu", "hours_to_ambulation")
		if card, ok := c.predictorCard("vte", "vte-arthroplasty", in, "zhang-2015-vte-risk-factors", "xu-2019-dvt-risk", "wang-2023-ml-vs-caprini"); ok {
			cards = append(cards, card)
		}

		// Prophylaxis, unless an anticoagulant is already ordered.
		if p.OnClass(patient.Anticoagulant) {
			continue
		}
		guide := map[string]string{HipArthroplasty: "nice-ng89-hip", KneeArthroplasty: "nice-ng89-knee"}[o.kind]
		nice := map[string][2]string{
			HipArthroplasty:  {"LMWH followed by aspirin, LMWH with anti-embolism stockings, or rivaroxaban", "低分子肝素后续阿司匹林、低分子肝素联合抗栓袜或利伐沙班"},
			KneeArthroplasty: {"aspirin, LMWH with anti-embolism stockings, or rivaroxaban", "阿司匹林、低分子肝素联合抗栓袜或利伐沙班"},
		}[o.kind]
		detail := c.tr("Use drug prophylaxis, mechanical compression, or both, for at least 10 to 14 days (ACCP 2012); "+
			"the options and their order of preference differ between guidelines (LMWH preferred by ACCP 2012, a direct oral anticoagulant by ASH 2019; for this joint NICE lists "+nice[0]+").",
			"采用药物、机械或联合预防，至少10至14天（ACCP 2012）；各指南的选择和偏好不同（ACCP 2012首选低分子肝素，ASH 2019首选直接口服抗凝药；该关节NICE列出"+nice[1]+"）。")
		detail += "\n\n" + c.tr("Before discharge, teach the signs of DVT and pulmonary embolism, how and for how long to use the prophylaxis, "+
			"and whom to contact if problems arise (NICE NG89).",
			"出院前告知深静脉血栓和肺栓塞的征象、预防措施的用法和疗程，以及出现问题时的联系对象（NICE NG89）。")
		entries := []string{"aaos-2011-prophylaxis", "accp-2012-tha-tka-agents", "ash-2019-doac-over-lmwh", guide, "nice-ng89-information"}
		indicator := Info
		mechanicalFirst := false
		switch {
		case bleeding:
			indicator, mechanicalFirst = Warning, true
			detail += "\n\n" + c.tr("**Bleeding risk recorded** (a bleeding disorder, liver disease or an antiplatelet drug): "+
				"mechanical prophylaxis such as intermittent pneumatic compression, adding a drug once bleeding risk falls.",
				"**存在出血风险**（出血性疾病、肝病或抗血小板药物）：采用间歇充气加压等机械预防，出血风险下降后加用药物。")
			entries = append(entries, "aaos-2011-bleeding-disorder", "accp-2012-bleeding-risk")
		case priorVTE:
			indicator = Warning
			detail += "\n\n" + c.tr("**Previous VTE**: give both drug and mechanical prophylaxis.", "**既往VTE**：药物与机械预防联合。")
			entries = append(entries, "aaos-2011-prior-vte")
		}
		card := c.card("vte", indicator,
			c.tr(fmt.Sprintf("No VTE prophylaxis ordered for %s arthroplasty: choose drug, mechanical or both", joint),
				fmt.Sprintf("%s关节置换尚未开具血栓预防：选择药物、机械或联合预防", jointZH)),
			detail, entries...)
		drug := Suggestion{Label: c.tr("Draft LMWH prophylaxis (dose per local protocol)", "起草低分子肝素预防（剂量按本院规范）"),
			IsRecommended: !mechanicalFirst,
			Actions: []Action{{Type: "create", Description: c.tr("Draft a low-molecular-weight heparin order", "起草低分子肝素医嘱"),
				Resource: map[string]any{"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
					"medicationCodeableConcept": map[string]any{"text": "Low-molecular-weight heparin, prophylactic dose"},
					"subject":                   map[string]any{"reference": c.patientRef()},
					"reasonReference":           []any{map[string]any{"reference": o.ref}},
					"note":                      []any{map[string]any{"text": "VTE prophylaxis after arthroplasty; at least 10 to 14 days (ACCP 2012); dose per local protocol."}}}}}}
		mech := Suggestion{Label: c.tr("Draft intermittent pneumatic compression", "起草间歇充气加压装置"), IsRecommended: mechanicalFirst,
			Actions: []Action{{Type: "create", Description: c.tr("Draft an intermittent pneumatic compression device request", "起草间歇充气加压装置申请"),
				Resource: map[string]any{"resourceType": "DeviceRequest", "status": "draft", "intent": "proposal",
					"codeCodeableConcept": map[string]any{"text": "Intermittent pneumatic compression device"},
					"subject":             map[string]any{"reference": c.patientRef()},
					"reasonReference":     []any{map[string]any{"reference": o.ref}}}}}}
		card.Suggestions = []Suggestion{drug, mech}
		if mechanicalFirst {
			card.Suggestions = []Suggestion{mech, drug}
		}
		card.SelectionBehavior = "any"
		cards = append(cards, card)
	}
	return cards, nil
}

func cementCards(_ context.Context, c *call) ([]Card, error) {
	var cards []Card
	for _, o := range c.orders {
		if o.kind != Vertebroplasty && o.kind != Kyphoplasty {
			continue
		}
		p := c.patient
		in := newInputs(p)
		in.cat("procedure", map[string]string{Vertebroplasty: "pvp", Kyphoplasty: "pkp"}[o.kind], fromOrder)
		var vertebral []patient.Fracture
		for _, f := range p.Fractures {
			if f.Site == "vertebra" {
				vertebral = append(vertebral, f)
			}
		}
		in.flag("multiple_fractures", len(vertebral) > 1, fromProblemList)
		if len(vertebral) > 0 && !vertebral[0].Onset.IsZero() {
			latest := vertebral[0].Onset
			for _, f := range vertebral {
				if f.Onset.After(latest) {
					latest = f.Onset
				}
			}
			days := math.Max(0, math.Floor(c.now.Sub(latest).Hours()/24))
			in.num("days_to_surgery", &days, fromProblemList)
		}
		in.recorded(o.inputs, "bmd_g_cm2", "genant_grade", "cement_volume_ml", "days_to_surgery",
			"intravertebral_cleft", "basivertebral_foramen", "cortical_defect", "low_viscosity_cement", "multiple_fractures")
		if card, ok := c.predictorCard("ovcf", "cement-leakage", in, "li-2021-leakage-predictors", "zhang-2020-leakage-by-type", "cirse-2017-leakage-technique"); ok {
			cards = append(cards, card)
		}
		if !slices.ContainsFunc(antiOsteoporosis, p.OnClass) {
			cards = append(cards, c.card("osteoporosis", Warning,
				c.tr("Vertebral fragility fracture and no osteoporosis drug: augmentation does not treat the osteoporosis",
					"椎体脆性骨折且未抗骨质疏松治疗：椎体强化不能治疗骨质疏松"),
				c.tr("A recent vertebral fracture means very high risk of another. Start or continue anti-osteoporosis treatment with calcium and vitamin D, "+
					"whether or not the fracture is augmented.",
					"近期椎体骨折提示再骨折极高风险。无论是否行椎体强化，均应开始或继续抗骨质疏松治疗，并补充钙和维生素D。"),
				"csobmr-2022-after-vertebral-fracture", "carm-ovcf-2021-anti-osteoporosis", "cirse-2017-osteoporosis-care"))
		}
	}
	return cards, nil
}

func axialPainCards(_ context.Context, c *call) ([]Card, error) {
	var cards []Card
	for _, o := range c.orders {
		if o.kind != CervicalPosterior && o.kind != CervicalAnterior {
			continue
		}
		p := c.patient
		in := newInputs(p)
		in.cat("approach", map[string]string{CervicalPosterior: "posterior-laminoplasty", CervicalAnterior: "anterior"}[o.kind], fromOrder)
		in.words("smoker", smokerWords...)
		in.recorded(o.inputs, "preop_neck_pain_nrs", "mjoa", "c2_c7_cobb_deg", "hads_depression", "t1_slope_deg",
			"c2_involved", "c7_spinous_sacrificed", "central_canal_stenosis", "smoker")
		if card, ok := c.predictorCard("dcm", "dcm-axial-pain", in, "kimura-2018-predictors", "cho-2010-c7-spinous-process", "cheung-2019-collar-axial-pain"); ok {
			cards = append(cards, card)
		}
	}
	return cards, nil
}

// predictorCard scores one row and shows the probability, its
// explanation, the model's synthetic-data warning and a link to the
// model card. When a required input is missing, the card says which
// instead of guessing it.
func (c *call) predictorCard(topic, id string, in *inputs, entries ...string) (Card, bool) {
	def, _ := predictors.Get(id)
	row := in.row
	title := def.Title.EN
	if c.lang == "zh" {
		title = def.Title.ZH
	}
	var missing []string
	for _, f := range def.Schema {
		if _, ok := row[f.Name]; !ok && f.Required {
			missing = append(missing, c.tr(f.Description.EN, f.Description.ZH))
		}
	}
	modelCard := Link{Label: c.tr("Model card", "模型卡"), URL: c.base + "/v1/predictors/" + id + "/card?format=html", Type: "absolute"}
	if len(missing) > 0 {
		card := c.card(topic, Info,
			clip(c.tr("Risk estimate ("+title+") needs: ", "风险评估（"+title+"）缺少：")+strings.Join(missing, ", ")),
			c.tr("Record these inputs (as Observations or on the order) to get the estimate; OrthoCDS does not guess them.",
				"请记录这些输入（作为Observation或在医嘱上）以获得评估；OrthoCDS不会猜测缺失值。"), entries...)
		card.Links = append(card.Links, modelCard)
		return card, true
	}
	if c.h.cfg.Predictors == nil {
		return Card{}, false
	}
	res, err := c.h.cfg.Predictors.Predict(id, []predictors.Row{row}, true)
	if err != nil {
		var faults []string
		var oe *orthocds.Error
		if errors.As(err, &oe) {
			for _, fe := range oe.FieldErrors {
				faults = append(faults, strings.TrimPrefix(fe.Field, "/rows/0/")+" "+fe.Detail)
			}
		}
		if len(faults) == 0 {
			faults = []string{orthocds.ErrorMessage(err)}
		}
		card := c.card(topic, Info, clip(c.tr("Risk estimate ("+title+") not computed: an input is out of range", "风险评估（"+title+"）未计算：输入超出范围")),
			c.tr("The inputs at fault: ", "有误的输入：")+strings.Join(faults, "; "), entries...)
		card.Links = append(card.Links, modelCard)
		return card, true
	}
	pr := res.Predictions[0]
	c.predictor, c.predictorVersion = id, res.Model.SHA256
	features := map[string]predictors.Feature{}
	for _, f := range def.Schema {
		features[f.Name] = f
	}
	var lines []string
	for i, ct := range pr.Contributions {
		if i == 4 {
			break
		}
		dir := c.tr("raises", "升高")
		if ct.Contribution < 0 {
			dir = c.tr("lowers", "降低")
		}
		f := features[ct.Feature]
		value := f1(ct.Value)
		switch {
		case ct.Missing:
			value = c.tr("not recorded", "未记录")
		case f.Type == predictors.Category && int(ct.Value) < len(f.Levels):
			value = f.Levels[int(ct.Value)]
		case f.Type == predictors.Bool && ct.Value == 1:
			value = c.tr("yes", "是")
		case f.Type == predictors.Bool:
			value = c.tr("no", "否")
		case f.Unit != "":
			value += " " + f.Unit
		}
		lines = append(lines, fmt.Sprintf("- %s: %s %s (%+.2f log-odds)", c.tr(f.Description.EN, f.Description.ZH), value, dir, ct.Contribution))
	}
	indicator := Info
	if pr.RiskBand == "higher" {
		indicator = Warning
	}
	compared := map[string]string{"higher": "higher than", "lower": "lower than", "average": "close to"}[pr.RiskBand]
	detail := c.tr(fmt.Sprintf("Estimated probability %.0f%% (%s the development cohort's %.0f%%). Largest contributions:\n\n",
		pr.Probability*100, compared, pr.BaseRate*100),
		fmt.Sprintf("估计概率%.0f%%（相对开发队列%.0f%%为%s）。主要影响因素：\n\n", pr.Probability*100, pr.BaseRate*100,
			map[string]string{"higher": "较高", "lower": "较低", "average": "相近"}[pr.RiskBand])) + strings.Join(lines, "\n")
	detail += "\n\n" + c.provenance(def, in, pr.Imputed, pr.Missing)
	if res.Warning != nil {
		detail += "\n\n**" + c.tr(res.Warning.EN, res.Warning.ZH) + "**"
	}
	card := c.card(topic, indicator,
		clip(c.tr(fmt.Sprintf("%s: %.0f%% (%s average)", title, pr.Probability*100, compared),
			fmt.Sprintf("%s：%.0f%%（%s）", title, pr.Probability*100, map[string]string{"higher": "高于平均", "lower": "低于平均", "average": "接近平均"}[pr.RiskBand]))),
		detail, entries...)
	card.Links = append(card.Links, modelCard)
	ho := card.Extension[HandoutExtension].(map[string]any)
	ho["predictor"], ho["probability"] = id, pr.Probability
	return card, true
}
