package predictors

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors/model"
)

// Card is a model card with the source attributes US ONC HTI-1 asks of
// predictive decision-support interventions.
type Card struct {
	Predictor     string         `json:"predictor"`
	Title         Text           `json:"title"`
	Model         ModelInfo      `json:"model"`
	IntendedUse   Text           `json:"intended_use"`
	IntendedUsers Text           `json:"intended_users"`
	OutOfScope    []Text         `json:"out_of_scope"`
	Outcome       Text           `json:"outcome"`
	Population    Text           `json:"population"`
	Inputs        Schema         `json:"inputs"`
	TrainingData  model.Training `json:"training_data"`
	Validation    Validation     `json:"validation"`
	Cautions      []Text         `json:"cautions"`
	Warning       *Text          `json:"warning,omitempty"`
	Disclaimer    string         `json:"disclaimer"`
	// Owner answers for a hospital's own predictor.
	Owner string `json:"owner,omitempty"`
	// Recalibration is the local recalibration, with the model's
	// calibration on the local rows before and after.
	Recalibration *model.Recalibration `json:"recalibration,omitempty"`
}

// Validation says how the model was validated and what it scored.
type Validation struct {
	Method      string                              `json:"method"`
	Overall     model.Metrics                       `json:"overall"`
	Subgroups   map[string]map[string]model.Metrics `json:"subgroups"`
	Calibration []model.CalibrationBin              `json:"calibration"`
}

// Card returns the model card of a predictor.
func (s *Service) Card(ref string) (*Card, error) {
	def, a, ok := s.resolve(ref)
	id := def.ID
	if !ok {
		return nil, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no predictor %q", ref)}
	}
	c := &Card{Predictor: id, Title: def.Title, Model: info(a), Outcome: def.Outcome, Population: def.Population,
		Inputs: def.Schema, TrainingData: a.Training, Disclaimer: orthocds.Disclaimer,
		IntendedUse: Text{
			EN: "Estimate, before the operation, the probability of: " + def.Outcome.EN + ". To inform planning and the discussion with the patient, with the inputs that drive the estimate shown.",
			ZH: "术前估计以下结局的发生概率：" + def.Outcome.ZH + "。用于辅助手术规划及与患者沟通，并展示影响估计的输入因素。"},
		IntendedUsers: Text{EN: "Surgeons and physicians caring for: " + def.Population.EN, ZH: "诊治以下患者的外科及内科医生：" + def.Population.ZH},
		OutOfScope: []Text{
			{EN: "Patients outside the stated population, including children.", ZH: "不适用于上述人群以外的患者，包括儿童。"},
			{EN: "Use as the only basis for deciding whether or how to operate.", ZH: "不可作为决定是否手术或如何手术的唯一依据。"},
			{EN: "Predicting any outcome other than the one stated.", ZH: "不可用于预测上述以外的结局。"},
		},
		Cautions: []Text{
			{EN: "Effect sizes come from small, mostly single-centre studies; the model is linear in its inputs on the log-odds scale.",
				ZH: "效应量来自规模较小、多为单中心的研究；模型在对数几率尺度上对输入为线性。"},
			{EN: "Missing optional inputs are filled with typical values and listed as imputed; estimates with imputed inputs are less certain.",
				ZH: "缺失的可选输入以典型值填补并标注为已填补；含填补输入的估计不确定性更大。"},
			{EN: "Risk bands compare the estimate with the development cohort's outcome rate; they are not validated clinical cut-offs.",
				ZH: "风险分层仅将估计值与建模队列的结局发生率比较，并非经过验证的临床阈值。"},
		},
		Validation: Validation{
			Method:  method(a),
			Overall: a.Report.Overall, Subgroups: a.Report.Subgroups, Calibration: a.Report.Calibration,
		},
	}
	c.Recalibration = a.Recalibration
	if def.Hospital {
		// A hospital's own predictor: its file states the intended use and
		// who answers for it; its inputs' effects are the hospital's.
		c.IntendedUse, c.Owner = def.IntendedUse, def.Owner
		c.Cautions[0] = Text{EN: "A predictor defined by this hospital (" + def.Owner + "): its inputs and their sources are the hospital's, not the OrthoCDS project's.",
			ZH: "本院自定义的预测模型（" + def.Owner + "）：其输入及依据由本院提供，而非OrthoCDS项目。"}
	}
	if a.Kind == model.KindGBT && a.GBT != nil && a.GBT.Missing {
		c.Cautions[1] = Text{EN: "An imported model: optional inputs not recorded are left missing and sent where the model learned to send them, as where it was trained.",
			ZH: "导入的模型：未记录的可选输入保持缺失，按模型训练时学到的方向处理。"}
	}
	if a.Training.Synthetic {
		c.Warning = &SyntheticWarning
	}
	return c, nil
}

// method says how the figures on the card were obtained.
func method(a *model.Artefact) string {
	if a.Report.Folds == 0 {
		return fmt.Sprintf("Trained outside OrthoCDS and imported; the figures are a validation on %d rows (%s) at threshold %.3f, "+
			"with a percentile bootstrap 95%% CI for the AUC, Brier score, logistic calibration, and the same per sex and age band.",
			a.Training.Rows, a.Training.Description, a.Threshold)
	}
	return fmt.Sprintf("Stratified %d-fold cross-validation (seed %d); AUC with a percentile bootstrap 95%% CI (1,000 resamples); "+
		"Brier score; logistic calibration intercept and slope; sensitivity and specificity at threshold %.3f (the development outcome rate); "+
		"the same per sex and age band.", a.Report.Folds, a.Report.Seed, a.Threshold)
}

//go:embed card.html
var cardHTML string

var cardTemplate = template.Must(template.New("card").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f3":  func(v float64) string { return fmt.Sprintf("%.3f", v) },
}).Parse(cardHTML))

// RenderCard writes the card as a readable HTML page.
func RenderCard(w io.Writer, c *Card) error { return cardTemplate.Execute(w, c) }
