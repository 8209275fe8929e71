package cdshooks

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/orthocds/orthocds"
)

// tr picks the English or Chinese text.
func (c *call) tr(en, zh string) string {
	if c.lang == "zh" {
		return zh
	}
	return en
}

// TopicSystem codes card topics.
const TopicSystem = "https://orthocds.org/fhir/CodeSystem/card-topic"

// OverrideSystem codes the override reasons offered on every card.
const OverrideSystem = "https://orthocds.org/fhir/CodeSystem/override-reason"

func (c *call) overrideReasons() []Coding {
	return []Coding{
		{Code: "already-addressed", System: OverrideSystem, Display: c.tr("Already addressed", "已处理")},
		{Code: "not-applicable", System: OverrideSystem, Display: c.tr("Does not apply to this patient", "不适用于该患者")},
		{Code: "patient-declined", System: OverrideSystem, Display: c.tr("Patient declined", "患者拒绝")},
		{Code: "clinical-judgement", System: OverrideSystem, Display: c.tr("Clinical judgement differs", "临床判断不同")},
	}
}

// card builds a card whose detail ends with its sources (each linked to
// the guideline entry) and the statement that it supports, not replaces,
// clinical judgement. The card's source is the first entry cited.
func (c *call) card(topic, indicator, summary, detail string, entries ...string) Card {
	var b strings.Builder
	b.WriteString(detail)
	b.WriteString("\n\n**")
	b.WriteString(c.tr("Sources", "来源"))
	b.WriteString("**\n\n")
	src := Source{Label: "OrthoCDS", Topic: &Coding{Code: topic, System: TopicSystem, Display: topic}}
	topicText := ""
	for i, id := range entries {
		e, ok := c.h.cfg.Guidelines.Get(id)
		if !ok {
			panic("cdshooks: card cites unknown guideline entry " + id) // caught by the tests
		}
		title := e.Title.EN
		if c.lang == "zh" && e.Title.ZH != "" {
			title = e.Title.ZH
		}
		link := c.base + "/v1/guidelines/" + url.PathEscape(id)
		fmt.Fprintf(&b, "- [%s %d, %s: %s](%s) (%s; %s)\n", e.Source.Key, e.Source.Year, e.Section, title, link,
			e.GradeLabel(c.lang), e.Source.Body)
		if i == 0 {
			src.Label = fmt.Sprintf("OrthoCDS: %s %d", e.Source.Key, e.Source.Year)
			src.URL = link
		}
		if i < 2 {
			topicText += e.Title.EN + ". "
		}
	}
	b.WriteString("\n_")
	b.WriteString(orthocds.Disclaimer)
	b.WriteString("_")
	return Card{Summary: summary, Detail: b.String(), Indicator: indicator, Source: src,
		OverrideReasons: c.overrideReasons(), Links: []Link{c.sidebarLink()}, topic: strings.TrimSpace(topicText), entries: entries,
		Extension: map[string]any{HandoutExtension: map[string]any{"topic": topic, "entries": entries}}}
}

// sidebarLink opens the SMART-launched sidebar page for this patient,
// carrying the service and hook instance as appContext.
func (c *call) sidebarLink() Link {
	ctx, _ := json.Marshal(map[string]string{"service": c.svc.info.ID, "hookInstance": c.req.HookInstance})
	return Link{Label: c.tr("Open OrthoCDS: reasoning and questions", "打开OrthoCDS：推理与提问"),
		URL: c.base + "/sidebar/launch.html", Type: "smart", AppContext: string(ctx)}
}

// patientRef is the FHIR reference of the patient in context.
func (c *call) patientRef() string {
	id, _ := contextString(c.req, "patientId")
	return "Patient/" + id
}

func f1(v float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".")
}
