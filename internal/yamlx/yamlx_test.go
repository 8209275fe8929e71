package yamlx

import "testing"

// The input fuzzing found makes the YAML library panic; it is an error here.
func TestParserPanicIsAnError(t *testing.T) {
	crash := "entries:\n  - id: \n    section: 1\n    domain: \n    topics: !00000000\n00000000000000:\n      00: 0\n    0008: 0\n    00008:\n      00: 0\n    0009: 0\n    000A:\n      00: 0\n    000B: 0\n    000C:00000000: 0\n    A: 0\n00000000000000008: 0"
	var v struct {
		Entries []struct {
			ID     string   `yaml:"id"`
			Topics []string `yaml:"topics"`
		} `yaml:"entries"`
	}
	if err := UnmarshalStrict([]byte(crash), &v); err == nil {
		t.Error("no error for input the parser cannot read")
	}
	var ok struct{ A int }
	if err := UnmarshalStrict([]byte("a: 1"), &ok); err != nil || ok.A != 1 {
		t.Errorf("a good document: %v %+v", err, ok)
	}
	if err := UnmarshalStrict([]byte("b: 1"), &ok); err == nil {
		t.Error("an unknown key was accepted")
	}
}
