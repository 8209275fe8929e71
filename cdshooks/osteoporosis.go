package cdshooks

import (
	"context"
	"fmt"
	"slices"

	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors/scores"
)

// OsteoporosisID is the osteoporosis service.
const OsteoporosisID = "orthocds-osteoporosis"

func osteoporosisService() *service {
	return &service{
		info: ServiceInfo{
			Hook:  "patient-view",
			ID:    OsteoporosisID,
			Title: "OrthoCDS bone health / 骨健康",
			Description: "Reads BMD T-scores, weight, fragility fractures, glucocorticoids and bone drugs; returns the WHO T-score " +
				"category, the OSTA index, the fracture risk tier and guideline-cited work-up and treatment cards.",
			Prefetch: map[string]string{
				"patient": "Patient/{{context.patientId}}",
				"observations": "Observation?patient={{context.patientId}}&code=" +
					"http://loinc.org|29463-7,http://loinc.org|8302-2,http://loinc.org|38267-1,http://loinc.org|38263-0,http://loinc.org|38264-8,http://loinc.org|104938-6",
				"conditions":  "Condition?patient={{context.patientId}}",
				"medications": "MedicationRequest?patient={{context.patientId}}",
			},
			UsageRequirements: "Every prefetch key is needed; without them, give fhirServer and fhirAuthorization so the service can read them.",
		},
		cards: osteoporosisCards,
	}
}

// antiOsteoporosis are the drug classes that count as treatment.
var antiOsteoporosis = []string{patient.Denosumab, patient.Bisphosphonate, patient.Anabolic, patient.SERM}

func osteoporosisCards(_ context.Context, c *call) ([]Card, error) {
	p := c.patient
	var cards []Card
	treated := slices.ContainsFunc(antiOsteoporosis, p.OnClass)
	var fragility, hipOrSpine, recent int
	for _, f := range p.Fractures {
		if !f.Fragility {
			continue
		}
		fragility++
		if f.Site == "hip" || f.Site == "vertebra" {
			hipOrSpine++
		}
		if !f.Onset.IsZero() && f.Onset.After(c.now.AddDate(0, -24, 0)) {
			recent++
		}
	}
	low := p.LowestTScore()
	diagnosed := (low != nil && low.Value <= -2.5) || hipOrSpine > 0
	veryHigh := diagnosed && (recent > 0 || fragility > 1 || (low != nil && low.Value < -3.0))
	tier := ""
	switch {
	case veryHigh:
		tier = c.tr(" Fracture risk tier: very high (a fragility fracture in the past 24 months, multiple fractures or a T-score below -3.0).",
			"骨折风险分层：极高风险（近24个月内脆性骨折、多发骨折或T值低于-3.0）。")
	case diagnosed:
		tier = c.tr(" Fracture risk tier: high.", "骨折风险分层：高风险。")
	}

	// Bone density category.
	if low != nil {
		v := low.Value
		r, err := scores.TScore(scores.TScoreInput{TScore: &v, FragilityFracture: fragility > 0})
		if err != nil {
			return nil, err
		}
		indicator := Info
		if r.Category == "osteoporosis" || r.Category == "severe-osteoporosis" {
			indicator = Warning
		}
		summary := c.tr(fmt.Sprintf("Lowest T-score %s (%s): %s", f1(v), low.Site, r.Summary.EN),
			fmt.Sprintf("最低T值%s（%s）：%s", f1(v), low.Site, r.Summary.ZH))
		detail := c.tr("WHO categories: normal at -1.0 or higher, low bone mass between -1.0 and -2.5, osteoporosis at -2.5 or lower; "+
			"with a fragility fracture, severe (established) osteoporosis.",
			"WHO分类：T值≥-1.0为正常，-1.0至-2.5之间为低骨量，≤-2.5为骨质疏松症；伴脆性骨折为严重骨质疏松症。") + tier
		entries := append(r.Sources, "csobmr-2022-dxa-diagnosis")
		if tier != "" {
			entries = append(entries, "csobmr-2022-risk-tiers")
		}
		cards = append(cards, c.card("osteoporosis", indicator, clip(summary), detail, entries...))
	}

	// OSTA screening, when there is no DXA result yet.
	if low == nil && p.Sex == "female" && p.WeightKg != nil && p.AgeYears != nil {
		r, err := scores.OSTA(scores.OSTAInput{WeightKg: p.WeightKg, AgeYears: p.AgeYears})
		if err != nil {
			return nil, err
		}
		v := *r.Value
		if r.Category == "low" {
			cards = append(cards, c.card("osteoporosis", Info,
				c.tr(fmt.Sprintf("OSTA %s: low osteoporosis risk; no DXA on record", f1(v)), fmt.Sprintf("OSTA %s：骨质疏松低风险；无DXA记录", f1(v))),
				c.tr("OSTA = (weight in kg - age in years) x 0.2; above -1 is low risk.", "OSTA =（体重kg - 年龄）× 0.2；> -1为低风险。"),
				"csobmr-2022-osta"))
		} else {
			card := c.card("osteoporosis", Warning,
				c.tr(fmt.Sprintf("OSTA %s (%s risk) and no DXA on record: measure BMD by DXA", f1(v), r.Category),
					fmt.Sprintf("OSTA %s（%s风险），无DXA记录：建议DXA测骨密度", f1(v), map[string]string{"medium": "中", "high": "高"}[r.Category])),
				c.tr("OSTA = (weight in kg - age in years) x 0.2. At -1 or lower the Chinese 2022 guideline advises measuring BMD by DXA; "+
					"measure the lumbar spine and the hip.",
					"OSTA =（体重kg - 年龄）× 0.2。≤ -1时，中国2022指南建议行DXA骨密度检查；测量腰椎和髋部。"),
				"csobmr-2022-osta", "aace-2020-dxa-sites")
			card.Suggestions = []Suggestion{{
				Label: c.tr("Order DXA of lumbar spine and hip", "开具腰椎及髋部DXA检查"), IsRecommended: true,
				Actions: []Action{{Type: "create", Description: c.tr("Draft a DXA order", "起草DXA检查申请"),
					Resource: map[string]any{
						"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
						"code":       map[string]any{"text": "DXA bone densitometry, lumbar spine and hip"},
						"subject":    map[string]any{"reference": c.patientRef()},
						"reasonCode": []any{map[string]any{"text": fmt.Sprintf("OSTA %s (%s risk), CSOBMR 2022", f1(v), r.Category)}},
					}}},
			}}
			cards = append(cards, card)
		}
	}

	// Treatment: osteoporosis by density or a hip or vertebral fragility
	// fracture, and no bone drug.
	if diagnosed && !treated {
		if veryHigh {
			why := c.tr("a fragility fracture in the past 24 months", "近24个月内脆性骨折")
			switch {
			case recent == 0 && fragility > 1:
				why = c.tr("multiple fragility fractures", "多发脆性骨折")
			case recent == 0:
				why = c.tr("a T-score below -3.0", "T值低于-3.0")
			}
			cards = append(cards, c.card("osteoporosis", Warning,
				c.tr("Very high fracture risk and no osteoporosis drug: consider an anabolic or parenteral first drug",
					"骨折极高风险且未抗骨质疏松治疗：考虑促骨形成药或注射类药物起始"),
				c.tr(fmt.Sprintf("Very high risk because of %s. For very high risk the guidelines name teriparatide, romosozumab, zoledronic acid or denosumab "+
					"as first drugs, an anabolic course being followed by an antiresorptive.", why),
					fmt.Sprintf("因%s属极高风险。指南对极高风险者推荐特立帕肽、罗莫佐单抗、唑来膦酸或地舒单抗起始，促骨形成药疗程结束后序贯抗骨吸收药。", why)),
				"csobmr-2022-very-high-risk", "csobmr-2022-first-drug-very-high", "aace-2020-very-high-risk", "aace-2020-anabolic-then-antiresorptive"))
		} else {
			cards = append(cards, c.card("osteoporosis", Warning,
				c.tr("Osteoporosis without an osteoporosis drug: start treatment (oral bisphosphonate first if suitable)",
					"骨质疏松症未治疗：建议开始抗骨质疏松治疗（适合者首选口服双膦酸盐）"),
				c.tr("High fracture risk. Start with an oral bisphosphonate such as alendronate or risedronate; if oral drugs are unsuitable, "+
					"zoledronic acid or denosumab. Check calcium, vitamin D and secondary causes first.",
					"骨折高风险。首选阿仑膦酸钠或利塞膦酸钠等口服双膦酸盐；不适合口服者用唑来膦酸或地舒单抗。用药前评估钙、维生素D及继发性原因。"),
				"csobmr-2022-first-drug-high", "csobmr-2022-treatment-indications", "bhof-2022-who-to-treat", "csobmr-2022-secondary-causes"))
		}
	}

	// Denosumab stopped without a follow-on drug.
	var lastDmab *patient.Medication
	for i, m := range p.Medications {
		if m.Class == patient.Denosumab && (lastDmab == nil || m.Date.After(lastDmab.Date)) {
			lastDmab = &p.Medications[i]
		}
	}
	if lastDmab != nil && (lastDmab.Status == "stopped" || lastDmab.Status == "completed") &&
		!p.OnClass(patient.Denosumab) && !p.OnClass(patient.Bisphosphonate) {
		card := c.card("osteoporosis", Critical,
			c.tr("Denosumab stopped with no follow-on drug: risk of rebound bone loss and vertebral fractures",
				"地舒单抗已停用且无序贯药物：存在骨量反弹丢失及多发椎体骨折风险"),
			c.tr("After denosumab stops, bone turnover rebounds and multiple vertebral fractures have been reported. Give a bisphosphonate "+
				"(zoledronic acid is the most studied) when the next denosumab dose would have been due, and check bone turnover markers afterwards.",
				"停用地舒单抗后骨转换反弹，可出现多发椎体骨折。应在原定下一次地舒单抗注射时给予双膦酸盐（唑来膦酸研究最多），之后监测骨转换标志物。"),
			"ects-2017-denosumab-transition", "ects-2017-denosumab-rebound", "endo-2019-denosumab-no-stop", "nogg-2022-denosumab-stop")
		card.Suggestions = []Suggestion{{
			Label: c.tr("Draft zoledronic acid as the follow-on drug", "起草唑来膦酸作为序贯药物"), IsRecommended: true,
			Actions: []Action{{Type: "create", Description: c.tr("Draft a zoledronic acid order (dose and timing per local protocol)",
				"起草唑来膦酸医嘱（剂量与时机按本院规范）"),
				Resource: map[string]any{
					"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
					"medicationCodeableConcept": map[string]any{"text": "Zoledronic acid, intravenous infusion"},
					"subject":                   map[string]any{"reference": c.patientRef()},
					"note": []any{map[string]any{"text": "Follow-on after denosumab (ECTS 2017): give when the next denosumab dose would have been due; " +
						"dose per local protocol."}},
				}}},
		}}
		cards = append(cards, card)
	}

	// Glucocorticoids without bone protection.
	if p.OnClass(patient.Glucocorticoid) && !treated {
		cards = append(cards, c.card("osteoporosis", Warning,
			c.tr("On glucocorticoids without bone protection: assess fracture risk now", "正在使用糖皮质激素且无骨保护：现在评估骨折风险"),
			c.tr("Assess fracture risk as soon as possible after glucocorticoids start (BMD with vertebral imaging, FRAX from age 40); "+
				"give a bone drug when risk is medium or higher, and calcium, vitamin D and the lowest effective glucocorticoid dose to all.",
				"开始糖皮质激素后应尽早评估骨折风险（骨密度及椎体影像，40岁以上用FRAX）；风险中等及以上给予抗骨质疏松药物，所有患者补充钙和维生素D并使用最低有效激素剂量。"),
			"acr-2022-giop-assess", "acr-2022-giop-treat", "acr-2022-giop-general", "nogg-2022-glucocorticoid"))
	}
	return cards, nil
}

// clip shortens a summary to under 140 characters.
func clip(s string) string {
	r := []rune(s)
	if len(r) < 140 {
		return s
	}
	return string(r[:138]) + "…"
}
