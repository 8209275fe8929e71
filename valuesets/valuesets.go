// Package valuesets holds the codes that mean each clinical fact the
// decision services read from an EHR: conditions (osteoporosis, fractures by
// site, prior VTE, hypertension, cancer, kidney disease, falls), drug
// classes, observations (T-scores, weight, height, BMI, eGFR, calcium,
// vitamin D, D-dimer) and the procedures of the order services, in SNOMED
// CT, ICD-10 (WHO, ICD-10-CM and national editions such as China's clinical
// edition, matched by category), LOINC, RxNorm, ATC, CPT, ICD-10-PCS and
// ICD-9-CM volume 3 (and China's ICD-9-CM-3 edition). Each fact is a
// reviewed data file (data/*.yaml) whose every code names its source
// (data/sources.yaml); words are kept as the last resort and a match by
// them is reported as such.
package valuesets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/yamlx"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Embedded returns the shipped value sets.
func Embedded() fs.FS {
	sub, err := fs.Sub(dataFS, "data")
	if err != nil {
		panic(err)
	}
	return sub
}

// Kinds of value set: the FHIR resources they are read from.
const (
	Condition   = "condition"   // Condition.code
	Medication  = "medication"  // MedicationRequest / MedicationStatement medication
	Observation = "observation" // Observation.code
	Procedure   = "procedure"   // ServiceRequest.code of a draft order
)

// How a fact was recognised.
const (
	ByCode = "code"
	ByText = "text"
)

// systems are the code systems a value set may use, by short name, with
// the URIs that EHRs send for them. ICD families are also recognised by a
// URI that names them (national editions use their own URIs).
var systems = map[string][]string{
	"snomed":   {"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96"},
	"loinc":    {"http://loinc.org", "urn:oid:2.16.840.1.113883.6.1"},
	"rxnorm":   {"http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.88"},
	"atc":      {"http://www.whocc.no/atc", "urn:oid:2.16.840.1.113883.6.73"},
	"icd10":    {"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.3", "urn:oid:2.16.840.1.113883.6.90"},
	"icd10pcs": {"http://www.cms.gov/Medicare/Coding/ICD10", "urn:oid:2.16.840.1.113883.6.4"},
	"icd9cm":   {"http://hl7.org/fhir/sid/icd-9-cm", "urn:oid:2.16.840.1.113883.6.104"},
	"cpt":      {"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12"},
}

// SystemURI returns the canonical URI of a short system name.
func SystemURI(short string) string {
	if uris := systems[short]; len(uris) > 0 {
		return uris[0]
	}
	return ""
}

// names are the systems' names as people write them.
var names = map[string]string{"snomed": "SNOMED CT", "loinc": "LOINC", "rxnorm": "RxNorm", "atc": "ATC",
	"icd10": "ICD-10", "icd10pcs": "ICD-10-PCS", "icd9cm": "ICD-9-CM", "cpt": "CPT"}

// SystemName names the system a URI belongs to ("SNOMED CT"), or returns
// the URI when it is none of the known systems.
func SystemName(uri string) string {
	if n, ok := names[family(uri)]; ok {
		return n
	}
	return uri
}

// family returns the short name of the system a URI belongs to, or "".
func family(uri string) string {
	for short, uris := range systems {
		if slices.Contains(uris, uri) {
			return short
		}
	}
	u := strings.ToLower(uri)
	switch {
	case strings.Contains(u, "icd-10-pcs") || strings.Contains(u, "icd10pcs"):
		return "icd10pcs"
	case strings.Contains(u, "icd-10") || strings.Contains(u, "icd10"):
		return "icd10"
	case strings.Contains(u, "icd-9") || strings.Contains(u, "icd9"):
		return "icd9cm"
	}
	return ""
}

// normalise writes a code as it is compared: classification codes without
// dots and in capitals (M81.0, m810 and M810 are one code).
func normalise(system, code string) string {
	code = strings.TrimSpace(code)
	switch system {
	case "icd10", "icd10pcs", "icd9cm", "atc":
		return strings.ToUpper(strings.ReplaceAll(code, ".", ""))
	}
	return code
}

// ValueSet is one clinical fact and the codes and words that mean it.
type ValueSet struct {
	ID    string `yaml:"id"`
	Kind  string `yaml:"kind"`
	Title struct {
		EN string `yaml:"en"`
		ZH string `yaml:"zh"`
	} `yaml:"title"`
	// Site is the fracture site a fracture value set stands for.
	Site string `yaml:"site"`
	// Fragility marks a fracture that is osteoporotic by its code.
	Fragility bool `yaml:"fragility"`
	// Class is the drug class of a medication value set.
	Class string `yaml:"class"`
	Codes []Code `yaml:"codes"`
	// Text are the words that stand for the fact when no code does; a
	// word written "a+b" needs every part ("股骨颈+骨折" is met by
	// 股骨颈脆性骨折). A Latin word matches from a word's start
	// ("alendron" in alendronate); one of four letters or fewer only as a
	// whole word.
	Text struct {
		EN []string `yaml:"en"`
		ZH []string `yaml:"zh"`
	} `yaml:"text"`
	words [][]*regexp.Regexp
}

// Code is one code of a value set.
type Code struct {
	System  string `yaml:"system"` // short name: snomed, icd10, loinc...
	Code    string `yaml:"code"`
	Display string `yaml:"display"`
	// Prefix makes the code stand for its descendants in a classification
	// (ICD-10 M81 covers M81.0 and M81.9, and national extensions of them).
	Prefix bool `yaml:"prefix"`
	// Site is the body site an observation code measures (T-scores).
	Site   string `yaml:"site"`
	Source string `yaml:"source"`
}

// Source is where codes were taken from.
type Source struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
	Seen  string `yaml:"seen"`
}

// Coding is a FHIR Coding, as far as matching needs it.
type Coding struct {
	System, Code, Display string
}

// Match is a value set a resource's coding or text fell in.
type Match struct {
	Set *ValueSet
	By  string // ByCode or ByText
	// Code is the value-set code matched (nil for a text match).
	Code *Code
}

// Sets are the loaded value sets.
type Sets struct {
	sets    []*ValueSet
	sources []Source
	// index: system short name -> normalised code -> codes; prefixes
	// separately.
	exact  map[string]map[string][]codeRef
	prefix map[string][]codeRef
}

type codeRef struct {
	set  *ValueSet
	code *Code
	norm string
}

// Load reads every value set file and sources.yaml from fsys and
// validates them; errors name the file and field.
func Load(fsys fs.FS) (*Sets, error) {
	var sf struct {
		Sources []Source `yaml:"sources"`
	}
	b, err := fs.ReadFile(fsys, "sources.yaml")
	if err != nil {
		return nil, err
	}
	if err := yamlx.UnmarshalStrict(b, &sf); err != nil {
		return nil, orthocds.Invalid("sources.yaml", "%v", err)
	}
	s := &Sets{sources: sf.Sources, exact: map[string]map[string][]codeRef{}, prefix: map[string][]codeRef{}}
	known := map[string]bool{}
	for i, src := range sf.Sources {
		if src.ID == "" || known[src.ID] || src.Title == "" || !strings.HasPrefix(src.URL, "http") {
			return nil, orthocds.Invalid(fmt.Sprintf("sources.yaml/sources/%d", i), "a source needs a unique id, a title and an http(s) url")
		}
		known[src.ID] = true
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	ids := map[string]string{}
	for _, name := range names {
		if name == "sources.yaml" {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		vs := &ValueSet{}
		if err := yamlx.UnmarshalStrict(b, vs); err != nil {
			return nil, orthocds.Invalid(name, "%v", err)
		}
		if err := s.add(name, vs, known); err != nil {
			return nil, err
		}
		if other, dup := ids[vs.ID]; dup {
			return nil, orthocds.Invalid(name+"/id", "%q is also the id of %s", vs.ID, other)
		}
		ids[vs.ID] = name
	}
	return s, nil
}

func (s *Sets) add(file string, vs *ValueSet, sources map[string]bool) error {
	switch {
	case vs.ID == "" || strings.TrimSuffix(path.Base(file), ".yaml") != vs.ID:
		return orthocds.Invalid(file+"/id", "must be the file's name (%q)", strings.TrimSuffix(path.Base(file), ".yaml"))
	case !slices.Contains([]string{Condition, Medication, Observation, Procedure}, vs.Kind):
		return orthocds.Invalid(file+"/kind", "%q is not condition, medication, observation or procedure", vs.Kind)
	case vs.Title.EN == "" || vs.Title.ZH == "":
		return orthocds.Invalid(file+"/title", "needs en and zh")
	case len(vs.Codes) == 0:
		return orthocds.Invalid(file+"/codes", "a value set needs codes; words alone are only the fallback")
	case vs.Kind == Medication && vs.Class == "":
		return orthocds.Invalid(file+"/class", "a medication value set names its drug class")
	}
	for i := range vs.Codes {
		c := &vs.Codes[i]
		f := fmt.Sprintf("%s/codes/%d", file, i)
		switch {
		case systems[c.System] == nil:
			return orthocds.Invalid(f+"/system", "%q is not one of the known systems", c.System)
		case strings.TrimSpace(c.Code) == "":
			return orthocds.Invalid(f+"/code", "is required")
		case c.Display == "":
			return orthocds.Invalid(f+"/display", "is required: what the code means")
		case c.Source == "":
			return orthocds.Invalid(f+"/source", "is required: where the code comes from")
		case !sources[c.Source]:
			return orthocds.Invalid(f+"/source", "%q is not in sources.yaml", c.Source)
		case c.Prefix && !slices.Contains([]string{"icd10", "icd10pcs", "icd9cm", "atc"}, c.System):
			return orthocds.Invalid(f+"/prefix", "only classification codes (ICD, ATC) stand for their descendants")
		}
		ref := codeRef{set: vs, code: c, norm: normalise(c.System, c.Code)}
		if c.Prefix {
			s.prefix[c.System] = append(s.prefix[c.System], ref)
		} else {
			if s.exact[c.System] == nil {
				s.exact[c.System] = map[string][]codeRef{}
			}
			s.exact[c.System][ref.norm] = append(s.exact[c.System][ref.norm], ref)
		}
	}
	for _, w := range append(slices.Clone(vs.Text.EN), vs.Text.ZH...) {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			return orthocds.Invalid(file+"/text", "has an empty word")
		}
		var all []*regexp.Regexp
		for _, part := range strings.Split(w, "+") {
			part = strings.TrimSpace(part)
			if part == "" {
				return orthocds.Invalid(file+"/text", "%q has an empty part", w)
			}
			pat := regexp.QuoteMeta(part)
			if isASCII(part) {
				// Latin words start at a word boundary ("fall", not
				// "pitfall"); short ones (tka, pvp, dvt) stand alone.
				pat = `\b` + pat
				if len(part) <= 4 {
					pat += `\b`
				}
			}
			all = append(all, regexp.MustCompile(pat))
		}
		vs.words = append(vs.words, all)
	}
	s.sets = append(s.sets, vs)
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

var (
	shipped     *Sets
	shippedErr  error
	shippedOnce sync.Once
)

// Shipped returns the embedded value sets, loaded once.
func Shipped() (*Sets, error) {
	shippedOnce.Do(func() { shipped, shippedErr = Load(Embedded()) })
	return shipped, shippedErr
}

// Sets returns the value sets, in file order.
func (s *Sets) Sets() []*ValueSet { return s.sets }

// Get returns the value set with id.
func (s *Sets) Get(id string) (*ValueSet, bool) {
	for _, vs := range s.sets {
		if vs.ID == id {
			return vs, true
		}
	}
	return nil, false
}

// Sources returns the sources of the codes.
func (s *Sets) Sources() []Source { return s.sources }

// Code returns the value-set codes of kind that a coding is, or none.
func (s *Sets) Code(kind string, c Coding) []Match {
	fam := family(c.System)
	if fam == "" || c.Code == "" {
		return nil
	}
	n := normalise(fam, c.Code)
	var out []Match
	add := func(r codeRef) {
		if r.set.Kind == kind && !slices.ContainsFunc(out, func(m Match) bool { return m.Set == r.set }) {
			out = append(out, Match{Set: r.set, By: ByCode, Code: r.code})
		}
	}
	for _, r := range s.exact[fam][n] {
		add(r)
	}
	for _, r := range s.prefix[fam] {
		if strings.HasPrefix(n, r.norm) {
			add(r)
		}
	}
	return out
}

// Match returns the value sets of kind that codings fall in by code, and,
// for sets no code reached, those whose words the text (the codings'
// displays and the resource's text) holds.
func (s *Sets) Match(kind string, codings []Coding, text string) []Match {
	var out []Match
	for _, c := range codings {
		for _, m := range s.Code(kind, c) {
			if !slices.ContainsFunc(out, func(x Match) bool { return x.Set == m.Set }) {
				out = append(out, m)
			}
		}
	}
	words := []string{text}
	for _, c := range codings {
		words = append(words, c.Display)
	}
	low := strings.ToLower(strings.Join(words, " ; "))
	if strings.TrimSpace(low) == ";" || low == "" {
		return out
	}
	for _, vs := range s.sets {
		if vs.Kind != kind || slices.ContainsFunc(out, func(x Match) bool { return x.Set == vs }) {
			continue
		}
		if slices.ContainsFunc(vs.words, func(parts []*regexp.Regexp) bool {
			return !slices.ContainsFunc(parts, func(re *regexp.Regexp) bool { return !re.MatchString(low) })
		}) {
			out = append(out, Match{Set: vs, By: ByText})
		}
	}
	return out
}
