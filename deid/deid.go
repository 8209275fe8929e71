// Package deid removes direct identifiers from free text before it is
// logged, stored or sent to a language model: Chinese resident ID
// numbers, phone numbers, medical record numbers, e-mail addresses, dates
// of birth, postal addresses, and names where the context marks them as
// names (患者张伟, 姓名：李娜, Mr Smith, patient John Smith). Each is
// replaced by a bracketed label ([ID], [PHONE], ...), so the clinical
// question keeps its sense.
//
// It is rule-based and errs towards removing: a word after "患者" that
// looks like a name is removed even when it is not one. It cannot find a
// bare name with no cue; structured fields, which carry no names at all,
// are the way to send patient data.
package deid

import (
	"regexp"
	"sort"
	"strings"
)

// Kinds of identifier.
const (
	ID      = "ID"
	Phone   = "PHONE"
	MRN     = "MRN"
	Email   = "EMAIL"
	DOB     = "DOB"
	Address = "ADDRESS"
	Name    = "NAME"
)

// surnames are the common Chinese surnames a name-in-context must start
// with (the hundred most frequent, and common two-character ones).
const surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤柳温常易"

var doubleSurnames = []string{"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐"}

// word is a capitalised name word: Smith, O'Neil, Smith-Jones.
const word = `[A-Z][a-z]*(?:['-][A-Z]?[a-z]+)*`

// particles never occur in a given name; a "name" holding one is a
// phrase (病史的患者 is not a person called 史的).
const particles = "的了是在和与及或等都也把被之其"

type rule struct {
	kind string
	re   *regexp.Regexp
	// group is the submatch to replace (0: all).
	group int
}

const date = `(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?,?\s+\d{4}|[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})`

var rules = []rule{
	{Email, regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), 0},
	// Resident ID: 18 characters (17 digits and a check digit or X), or
	// the old 15 digits; not part of a longer number.
	{ID, regexp.MustCompile(`(?:^|[^0-9])(\d{17}[\dXx]|\d{15})(?:[^0-9Xx]|$)`), 1},
	{MRN, regexp.MustCompile(`(?i)(?:MRN|MR#|medical record (?:number|no\.?)|hospital (?:number|no\.?)|patient id|病案号|住院号|门诊号|病历号|登记号)\s*[:：#]?\s*([A-Za-z0-9][A-Za-z0-9-]{3,})`), 1},
	{DOB, regexp.MustCompile(`(?i)(?:DOB|D\.O\.B\.?|date of birth|born(?: on)?|出生日期|出生于|生日)\s*[:：]?\s*(` + date + `)`), 1},
	// Phones: mainland mobiles, landlines with an area code, and
	// international or North American forms.
	{Phone, regexp.MustCompile(`(?:^|[^0-9])((?:\+?86[- ]?)?1[3-9]\d{9})(?:[^0-9]|$)`), 1},
	{Phone, regexp.MustCompile(`(?:^|[^0-9])(0\d{2,3}-\d{7,8}|\(0\d{2,3}\)\s*\d{7,8})(?:[^0-9]|$)`), 1},
	{Phone, regexp.MustCompile(`\+\d{1,3}[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}`), 0},
	{Phone, regexp.MustCompile(`(?:^|[^0-9])(\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?:[^0-9]|$)`), 1},
	// Addresses: a cue (住址, 地址, 家住, address) and what follows up to
	// the end of the clause, or a Chinese administrative chain, or an
	// English street address.
	{Address, regexp.MustCompile(`(?i)(?:住址|地址|家住|居住于|住在|address)\s*[:：]?\s*([^,，。;；\n]{4,60})`), 1},
	{Address, regexp.MustCompile(`[\p{Han}]{2,9}(?:省|自治区)?[\p{Han}]{2,9}市[\p{Han}]{1,9}(?:区|县)[\p{Han}0-9]{0,20}(?:路|街|道|巷|村|号)[\p{Han}0-9号楼室单元栋-]{0,12}`), 0},
	{Address, regexp.MustCompile(`\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Way|Court|Ct|Place|Pl)\b\.?(?:,?\s+(?:Apt|Unit|Flat)\s*\w+)?`), 0},
	// Names in context.
	{Name, regexp.MustCompile(`(?:患者|病人|病患|姓名\s*[:：]?|家属|之子|之女|老人|患儿)\s*((?:` + strings.Join(doubleSurnames, "|") + `|[` + surnames + `])[\p{Han}]{1,2})`), 1},
	{Name, regexp.MustCompile(`((?:` + strings.Join(doubleSurnames, "|") + `|[` + surnames + `])[\p{Han}]{1,2})(?:先生|女士|老师|阿姨|大爷|同志|患者)`), 1},
	{Name, regexp.MustCompile(`\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+(` + word + `(?:\s+` + word + `)?)`), 1},
	{Name, regexp.MustCompile(`(?i:\b(?:patient|pt\.?|name|named|called)\s*[:：]?\s+)(` + word + `(?:\s+` + word + `)?)`), 1},
}

// notNames are capitalised words that follow "patient" without being a
// name.
var notNames = map[string]bool{"Has": true, "Is": true, "With": true, "Was": true, "Had": true, "Who": true, "The": true,
	"Aged": true, "Age": true, "On": true, "In": true, "After": true, "Before": true, "And": true, "Female": true, "Male": true}

// Finding is one identifier removed: its kind and position in the input,
// never its text.
type Finding struct {
	Kind       string
	Start, End int
}

// Redact returns text with every identifier found replaced by its label,
// and what was found.
func Redact(text string) (string, []Finding) {
	var found []Finding
	for _, r := range rules {
		for _, m := range r.re.FindAllStringSubmatchIndex(text, -1) {
			s, e := m[2*r.group], m[2*r.group+1]
			if s < 0 {
				continue
			}
			if r.kind == Name && (notNames[strings.Fields(text[s:e])[0]] || strings.ContainsAny(text[s:e], particles)) {
				continue
			}
			found = append(found, Finding{r.kind, s, e})
		}
	}
	if len(found) == 0 {
		return text, nil
	}
	// Overlaps: keep the earliest, then the longest.
	sort.Slice(found, func(i, j int) bool {
		if found[i].Start != found[j].Start {
			return found[i].Start < found[j].Start
		}
		return found[i].End > found[j].End
	})
	var kept []Finding
	for _, f := range found {
		if len(kept) > 0 && f.Start < kept[len(kept)-1].End {
			continue
		}
		kept = append(kept, f)
	}
	var b strings.Builder
	last := 0
	for _, f := range kept {
		b.WriteString(text[last:f.Start])
		b.WriteString("[" + f.Kind + "]")
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), kept
}

// String is Redact without the findings.
func String(text string) string {
	s, _ := Redact(text)
	return s
}
