package stdlib

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
)

func TestTime(t *testing.T) {
	m := TimeModule()
	now := mustCall(t, m, "now").AsFloat()
	if d := now - float64(time.Now().Unix()); d < -2 || d > 2 {
		t.Errorf("now = %v", now)
	}
	a := mustCall(t, m, "monotonic").AsFloat()
	start := time.Now()
	mustCall(t, m, "sleep", F(0.03))
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("sleep(0.03) took %v", el)
	}
	if b := mustCall(t, m, "monotonic").AsFloat(); b-a < 0.03 {
		t.Errorf("monotonic advanced by %v", b-a)
	}
	_, err := call(t, m, "sleep", I(-1))
	wantErr(t, err, exec.KindValue, "negative")
	for _, n := range []string{"now", "monotonic", "sleep"} {
		if !fn(t, m, n).(*exec.Builtin).Nondeterministic {
			t.Errorf("time.%s is not marked nondeterministic", n)
		}
	}
}

func TestSleepCancel(t *testing.T) {
	th := &exec.Thread{}
	go func() {
		time.Sleep(30 * time.Millisecond)
		th.Cancel("run stopped")
	}()
	start := time.Now()
	_, err := callOn(t, th, fn(t, TimeModule(), "sleep"), I(10))
	wantErr(t, err, exec.KindCancelled, "run stopped")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancelled sleep took %v", el)
	}
}
