package head

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A head refuses to store a program larger than MaxProgramBytes, and
// stores one just under it.
func TestServiceCapsProgramSize(t *testing.T) {
	st, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewMembership(st, time.Minute)
	defer m.Close()
	svc := NewService(st, m)
	big := append([]byte{wire.GCSPutProgram}, bytes.Repeat([]byte("x"), MaxProgramBytes+1)...)
	if _, err := svc.HandleGCS(big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("a program over the cap: %v", err)
	}
	if _, err := svc.HandleGCS(big[:len(big)-1]); err != nil {
		t.Fatalf("a program at the cap: %v", err)
	}
}
