package compiler_test

import (
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// @resources(memory=...) and --resources memory=... read sizes with one
// parser: every unit one accepts, the other does, to the same bytes.
func TestMemoryUnitsMatchTheCommandLine(t *testing.T) {
	for _, size := range []string{"1gb", "1GB", "256MB", "256mb", "1.5GiB", "512kib", "100B", "2 GiB", "1TB", "1PiB", "1048576"} {
		p, err := compile(t, `
@resources(memory="`+size+`")
task work() { return 1 }
pipeline main() { return get(work()) }
`)
		if err != nil {
			t.Errorf("@resources(memory=%q): %v", size, err)
			continue
		}
		flag, err := resources.ParseSpec("memory=" + size)
		if err != nil {
			t.Errorf("--resources memory=%s: %v", size, err)
			continue
		}
		decl := funcNamed(p, "work").Resources["memory"]
		if int64(decl) != flag.Get(resources.Memory) {
			t.Errorf("%q: @resources gives %v bytes, --resources %d", size, decl, flag.Get(resources.Memory))
		}
	}
	// A number of bytes past the bound is refused as a string is.
	if _, err := compiler.ParseMemory(int64(9223372036854775807)); err == nil {
		t.Error("@resources(memory=9223372036854775807) accepted, over 8 PiB")
	}
	if _, err := resources.ParseSpec("memory=9223372036854775807"); err == nil {
		t.Error("--resources memory=9223372036854775807 accepted, over 8 PiB")
	}
	for _, bad := range []string{"12XB", "-1GB", "MB"} {
		if _, err := compiler.ParseMemory(bad); err == nil {
			t.Errorf("@resources(memory=%q) accepted", bad)
		}
		if _, err := resources.ParseSpec("memory=" + bad); err == nil {
			t.Errorf("--resources memory=%s accepted", bad)
		}
	}
}
