// Package yamlx decodes YAML strictly (unknown keys are errors) and turns a
// panic inside the YAML library into an error: fuzzing found inputs that
// make goccy/go-yaml v1.19.2 dereference nil, and a malformed file must
// be reported, not crash the program.
package yamlx

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

// UnmarshalStrict decodes b into v, refusing unknown keys.
func UnmarshalStrict(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML could not be read (the parser failed on it: %v)", r)
		}
	}()
	return yaml.UnmarshalWithOptions(b, v, yaml.Strict())
}
