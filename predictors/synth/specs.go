package synth

import (
	"fmt"
	"math"
)

func fmtf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

const noSize = "a published predictor, but no effect size in our sources: drawn without an effect"

// Specs are the cohort specifications, by predictor ID. Every LogOR is the
// natural log of a published odds ratio, or derived from published rates
// as shown.
var Specs = map[string]Spec{
	"cement-leakage": {
		Samplers: map[string]Sampler{
			"age_years":             normal(72, 8, 50, 95),
			"sex":                   levels(0.8, 0.2),
			"bmd_g_cm2":             normal(0.72, 0.12, 0.3, 1.2),
			"genant_grade":          levels(0, 0.30, 0.45, 0.25), // index = grade; index 0 unused
			"cement_volume_ml":      normal(4.5, 1.5, 1, 10),
			"days_to_surgery":       roundedNormal(10, 8, 0, 120),
			"multiple_fractures":    bernoulli(0.3),
			"intravertebral_cleft":  bernoulli(0.2),
			"basivertebral_foramen": bernoulli(0.3),
			"cortical_defect":       bernoulli(0.35),
			"low_viscosity_cement":  bernoulli(0.3),
			"procedure":             levels(0.5, 0.5),
		},
		Effects: []Effect{
			{"intravertebral_cleft", "flag", 1, math.Log(5.215), "intravertebral cleft OR 5.215 (160 patients / 167 vertebrae; full citation not available to the project)"},
			{"basivertebral_foramen", "flag", 1, math.Log(3.357), "basivertebral foramen OR 3.357 (same study)"},
			{"cortical_defect", "flag", 1, math.Log(3.115), "cortical defect OR 3.115 (PKP, 517 patients)"},
			{"bmd_g_cm2", "at-most", 0.67, math.Log(5.605), "low BMD OR 5.605 (PKP, 517 patients), with low BMD taken as <= 0.67 g/cm2 (Han 2023 cut-off)"},
			{"cement_volume_ml", "above", 4.4, math.Log(2.519), "cement volume OR 2.519 (160 patients), as volume over 4.4 ml (Han 2023 cut-off)"},
		},
		NoEffect: map[string]string{"age_years": noSize, "genant_grade": noSize, "days_to_surgery": noSize,
			"multiple_fractures": noSize, "low_viscosity_cement": noSize, "procedure": noSize, "sex": "subgroup only"},
	},
	"vte-arthroplasty": {
		Samplers: map[string]Sampler{
			"age_years":           normal(66, 10, 30, 95),
			"sex":                 levels(0.4, 0.6),
			"bmi_kg_m2":           normal(26, 4, 16, 50),
			"joint":               levels(0.45, 0.55),
			"bilateral":           bernoulli(0.08),
			"surgery_hours":       normal(1.8, 0.6, 0.7, 6),
			"hypertension":        bernoulli(0.45),
			"prior_vte":           bernoulli(0.04),
			"d_dimer_mg_l_feu":    logNormal(0.6, 0.6, 0.1, 20),
			"hours_to_ambulation": normal(30, 15, 4, 120),
		},
		Effects: []Effect{
			{"hypertension", "flag", 1, math.Log(2.89), "hypertension OR 2.89 (Huang L et al. 2016)"},
		},
		NoEffect: map[string]string{"age_years": noSize, "sex": noSize, "bmi_kg_m2": noSize, "joint": noSize,
			"bilateral": noSize, "surgery_hours": noSize, "prior_vte": noSize, "d_dimer_mg_l_feu": noSize,
			"hours_to_ambulation": noSize},
	},
	"dcm-axial-pain": {
		Samplers: map[string]Sampler{
			"age_years":              normal(60, 10, 30, 90),
			"sex":                    levels(0.4, 0.6),
			"preop_neck_pain_nrs":    roundedNormal(3.5, 2.5, 0, 10),
			"mjoa":                   normal(12, 2.5, 3, 17),
			"c2_c7_cobb_deg":         normal(12, 10, -20, 40),
			"hads_depression":        roundedNormal(5, 3, 0, 21),
			"t1_slope_deg":           normal(25, 7, 5, 50),
			"c2_involved":            bernoulli(0.15),
			"c7_spinous_sacrificed":  bernoulli(0.3),
			"smoker":                 bernoulli(0.2),
			"central_canal_stenosis": bernoulli(0.25),
			"approach":               levels(0.65, 0.35),
		},
		Effects: []Effect{
			{"preop_neck_pain_nrs", "per-unit", 0, math.Log(1.49), "preoperative neck pain OR 1.49 per point (Neurospine 2024)"},
			{"central_canal_stenosis", "flag", 1, math.Log(17.93), "central canal stenosis OR 17.93 (Neurospine 2024)"},
			// Cho 2010: 73.3% with the C7 spinous process sacrificed vs 12.5%
			// preserved; OR = (0.733/0.267) / (0.125/0.875) = 19.2.
			{"c7_spinous_sacrificed", "flag", 1, math.Log((0.733 / 0.267) / (0.125 / 0.875)), "C7 spinous process sacrificed, OR 19.2 derived from 73.3% vs 12.5% (Cho CB et al. 2010)"},
		},
		NoEffect: map[string]string{"age_years": noSize, "mjoa": noSize, "c2_c7_cobb_deg": noSize,
			"hads_depression": noSize, "t1_slope_deg": noSize, "c2_involved": noSize, "smoker": noSize,
			"approach": noSize, "sex": "subgroup only"},
	},
}
