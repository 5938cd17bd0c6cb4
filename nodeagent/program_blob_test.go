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
	} {
		got := splitProgramBlob(programBlob(want.name, want.source, want.needs))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
	}
}

// A node refuses a program whose content does not match the hash it was
// asked for, naming the node, before compiling anything.
func TestProgramHashMismatchRefused(t *testing.T) {
	blob := programBlob("p.rayflow", "pipeline main() { return 1 }", nil)
	hash := gcs.ProgramHash(blob)
	if err := checkProgramHash("node-x", hash, blob); err != nil {
		t.Fatalf("the right blob was refused: %v", err)
	}
	tampered := programBlob("p.rayflow", "pipeline main() { return 2 }", nil)
	err := checkProgramHash("node-x", hash, tampered)
	var refused *refusedProgramError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "node-x") || !strings.Contains(err.Error(), "does not match its hash") {
		t.Fatalf("a tampered blob gave %v", err)
	}
}
