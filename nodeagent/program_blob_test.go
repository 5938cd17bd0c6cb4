package nodeagent

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/gcs"
)

// A program's blob keeps its name, its needs and its source, whatever
// the source holds.
func TestProgramBlobRoundTrip(t *testing.T) {
	for _, want := range []shippedProgram{
		{name: "a.rayflow", source: "pipeline main() { return 1 }"},
		{name: "b.rayflow", source: "x\x00y\nz", needs: []string{"double", "geo", "geo.dist"}},
		{name: "c.rayflow", source: "x\x00y", needs: []string{"geo"}, spec: "batch,fuse"},
		{name: "d.rayflow", source: "\x01\x00", spec: "none"},
		{name: "e.rayflow", source: "\x02\x00x", jobLimits: jobLimits{maxSteps: 5000}},
		{name: "f.rayflow", source: "y", needs: []string{"geo"}, spec: "batch", jobLimits: jobLimits{maxSteps: 1}},
		{name: "g.rayflow", source: "\x03\x00z", jobLimits: jobLimits{maxMemory: 512 << 20}},
		{name: "h.rayflow", source: "w", needs: []string{"geo"}, spec: "fuse", jobLimits: jobLimits{maxSteps: 7, maxMemory: 1}},
	} {
		got := splitProgramBlob(programBlob(want))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
	}
}

// A node refuses a program whose content does not match the hash it was
// asked for, naming the node, before compiling anything.
func TestProgramHashMismatchRefused(t *testing.T) {
	blob := programBlob(shippedProgram{name: "p.rayflow", source: "pipeline main() { return 1 }"})
	hash := gcs.ProgramHash(blob)
	if err := checkProgramHash("node-x", hash, blob); err != nil {
		t.Fatalf("the right blob was refused: %v", err)
	}
	tampered := programBlob(shippedProgram{name: "p.rayflow", source: "pipeline main() { return 2 }"})
	err := checkProgramHash("node-x", hash, tampered)
	var refused *refusedProgramError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "node-x") || !strings.Contains(err.Error(), "does not match its hash") {
		t.Fatalf("a tampered blob gave %v", err)
	}
}

// A blob without options is what it was before options travelled (its
// hash is unchanged), and options change the hash.
func TestProgramBlobSpec(t *testing.T) {
	plain := shippedProgram{name: "a.rayflow", source: "pipeline main() { return 1 }", needs: []string{"geo"}}
	if got, want := string(programBlob(plain)), "a.rayflow\x00geo\x00pipeline main() { return 1 }"; got != want {
		t.Errorf("a blob without options is %q, want %q", got, want)
	}
	withBatch, withFuse := plain, plain
	withBatch.spec, withFuse.spec = "batch", "fuse"
	hashes := map[string]bool{}
	for _, sp := range []shippedProgram{plain, withBatch, withFuse} {
		hashes[gcs.ProgramHash(programBlob(sp))] = true
	}
	if len(hashes) != 3 {
		t.Errorf("programs differing only in their options share a hash")
	}
}
