package predictors

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"sync"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/yamlx"
)

// A hospital brings its own predictors as definition files: YAML, one per
// predictor, validated at load with errors naming the file and field. Once
// registered, a hospital predictor is trained, imported, served, carded,
// explained and audited like the shipped ones, and a CDS Hooks card offers
// it for the draft orders whose codes the file names.

// OrderCode is a coding of a draft order that offers a predictor in CDS
// Hooks cards.
type OrderCode struct {
	System string `json:"system" yaml:"system"` // the code system's URI, as EHRs send it
	Code   string `json:"code" yaml:"code"`
}

type textFile struct {
	EN string `yaml:"en"`
	ZH string `yaml:"zh"`
}

type featureFile struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"` // number, bool or category
	Unit        string   `yaml:"unit"`
	Min         *float64 `yaml:"min"`
	Max         *float64 `yaml:"max"`
	Integer     bool     `yaml:"integer"`
	Levels      []string `yaml:"levels"`
	Required    bool     `yaml:"required"`
	Default     *float64 `yaml:"default"`
	Description textFile `yaml:"description"`
	Sources     []string `yaml:"sources"`
}

type definitionFile struct {
	ID          string        `yaml:"id"`
	Title       textFile      `yaml:"title"`
	Outcome     textFile      `yaml:"outcome"`
	Population  textFile      `yaml:"population"`
	IntendedUse textFile      `yaml:"intended_use"`
	Owner       string        `yaml:"owner"`
	Features    []featureFile `yaml:"features"`
	OrderCodes  []OrderCode   `yaml:"order_codes"`
}

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9-]{2,62}$`)
	featurePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// ParseDefinition reads and validates a predictor definition file; name is
// the file's name, for errors.
func ParseDefinition(name string, b []byte) (Definition, error) {
	var f definitionFile
	if err := yamlx.UnmarshalStrict(b, &f); err != nil {
		return Definition{}, orthocds.Invalid(name, "%v", err)
	}
	bad := func(field, format string, args ...any) error {
		return orthocds.Invalid(name+"/"+field, format, args...)
	}
	text := func(field string, t textFile) (Text, error) {
		if t.EN == "" || t.ZH == "" {
			return Text{}, bad(field, "needs en and zh")
		}
		return Text{EN: t.EN, ZH: t.ZH}, nil
	}
	d := Definition{ID: f.ID, Hospital: true, Owner: f.Owner, OrderCodes: f.OrderCodes}
	switch {
	case !idPattern.MatchString(f.ID):
		return d, bad("id", "%q must be 3-63 lower-case letters, digits and dashes, starting with a letter", f.ID)
	case isShipped(f.ID):
		return d, bad("id", "%q is a shipped predictor's ID", f.ID)
	case f.Owner == "":
		return d, bad("owner", "names who answers for the predictor (a department, a team)")
	case len(f.Features) == 0:
		return d, bad("features", "a predictor needs inputs")
	}
	var err error
	for field, p := range map[string]*Text{"title": &d.Title, "outcome": &d.Outcome, "population": &d.Population, "intended_use": &d.IntendedUse} {
		src := map[string]textFile{"title": f.Title, "outcome": f.Outcome, "population": f.Population, "intended_use": f.IntendedUse}[field]
		if *p, err = text(field, src); err != nil {
			return d, err
		}
	}
	seen := map[string]bool{}
	for i, ff := range f.Features {
		at := fmt.Sprintf("features/%d", i)
		switch {
		case !featurePattern.MatchString(ff.Name):
			return d, bad(at+"/name", "%q must be lower-case letters, digits and underscores, starting with a letter", ff.Name)
		case seen[ff.Name]:
			return d, bad(at+"/name", "%q is named twice", ff.Name)
		case len(ff.Sources) == 0:
			return d, bad(at+"/sources", "says why the input predicts the outcome (a publication, the hospital's analysis)")
		}
		seen[ff.Name] = true
		desc, err := text(at+"/description", ff.Description)
		if err != nil {
			return d, err
		}
		feat := Feature{Name: ff.Name, Type: ff.Type, Unit: ff.Unit, Integer: ff.Integer, Required: ff.Required,
			Description: desc, Sources: ff.Sources}
		switch ff.Type {
		case Number:
			switch {
			case ff.Unit == "":
				return d, bad(at+"/unit", "a number needs its unit")
			case ff.Min == nil || ff.Max == nil || *ff.Min >= *ff.Max:
				return d, bad(at+"/max", "a number needs min below max")
			case !ff.Required && ff.Default == nil:
				return d, bad(at+"/default", "an optional number needs the default imputed when it is not recorded")
			case ff.Default != nil && (*ff.Default < *ff.Min || *ff.Default > *ff.Max):
				return d, bad(at+"/default", "%g is outside %g to %g", *ff.Default, *ff.Min, *ff.Max)
			}
			feat.Min, feat.Max = *ff.Min, *ff.Max
			if ff.Default != nil {
				feat.Default = *ff.Default
			}
		case Bool:
			feat.Min, feat.Max = 0, 1
			if ff.Default != nil {
				if *ff.Default != 0 && *ff.Default != 1 {
					return d, bad(at+"/default", "a yes/no default is 0 or 1")
				}
				feat.Default = *ff.Default
			}
		case Category:
			if len(ff.Levels) < 2 {
				return d, bad(at+"/levels", "a category needs at least two levels (the first is the reference)")
			}
			for j, l := range ff.Levels {
				if l == "" || slices.Contains(ff.Levels[:j], l) {
					return d, bad(fmt.Sprintf("%s/levels/%d", at, j), "levels must be distinct and not empty")
				}
			}
			feat.Levels, feat.Max = ff.Levels, float64(len(ff.Levels)-1)
			if ff.Default != nil {
				if *ff.Default < 0 || *ff.Default > feat.Max || *ff.Default != float64(int(*ff.Default)) {
					return d, bad(at+"/default", "a category default is a level's index")
				}
				feat.Default = *ff.Default
			}
		default:
			return d, bad(at+"/type", "%q is not number, bool or category", ff.Type)
		}
		d.Schema = append(d.Schema, feat)
	}
	for i, c := range f.OrderCodes {
		if c.System == "" || c.Code == "" {
			return d, bad(fmt.Sprintf("order_codes/%d", i), "needs a system and a code")
		}
	}
	return d, nil
}

func isShipped(id string) bool {
	for _, d := range Definitions {
		if d.ID == id {
			return true
		}
	}
	return false
}

// registry holds the hospital's own predictors, beside the shipped ones.
var registry struct {
	sync.RWMutex
	defs map[string]Definition
}

// Register adds hospital predictors; an ID already taken is refused.
func Register(defs ...Definition) error {
	registry.Lock()
	defer registry.Unlock()
	if registry.defs == nil {
		registry.defs = map[string]Definition{}
	}
	for _, d := range defs {
		if isShipped(d.ID) {
			return orthocds.Invalid("id", "%q is a shipped predictor's ID", d.ID)
		}
		if old, ok := registry.defs[d.ID]; ok && fmt.Sprint(old) != fmt.Sprint(d) {
			return orthocds.Invalid("id", "%q is defined twice", d.ID)
		}
		registry.defs[d.ID] = d
	}
	return nil
}

// LoadDefinitions reads every .yaml file of dir as a predictor definition
// and registers them, refusing the whole directory on any error.
func LoadDefinitions(dir string) ([]Definition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var defs []Definition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d, err := ParseDefinition(filepath.Base(f), b)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return defs, Register(defs...)
}

// All lists the shipped predictors, then the hospital's, by ID.
func All() []Definition {
	out := slices.Clone(Definitions)
	registry.RLock()
	var own []Definition
	for _, d := range registry.defs {
		own = append(own, d)
	}
	registry.RUnlock()
	sort.Slice(own, func(i, j int) bool { return own[i].ID < own[j].ID })
	return append(out, own...)
}

func registered(id string) (Definition, bool) {
	registry.RLock()
	defer registry.RUnlock()
	d, ok := registry.defs[id]
	return d, ok
}
