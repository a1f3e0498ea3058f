package testenv

import (
	"regexp"
	"testing"
)

// The skip pattern used with -short -run matches every name but the TestUnit… ones.
func TestUnitNotUnitTest(t *testing.T) {
	re := regexp.MustCompile(notUnitTest())
	for name, skipped := range map[string]bool{
		"TestUnitRecordProbe":     false,
		"TestUnit":                false,
		"TestUnitX/sub":           false,
		"TestClustersAreSeparate": true,
		"TestUni":                 true,
		"Test":                    true,
		"":                        true,
		"ExampleUnit":             true,
		"TestUnjt":                true,
		"BenchmarkUnit":           true,
	} {
		if got := re.MatchString(name); got != skipped {
			t.Errorf("%q skipped = %v, want %v", name, got, skipped)
		}
	}
}
