package stdlib

import (
	"math"
	"time"

	"github.com/rayflow/rayflow/exec"
)

// processStart anchors time.monotonic.
var processStart = time.Now()

// sleepPoll is how often time.sleep checks for cancellation.
const sleepPoll = 10 * time.Millisecond

// TimeModule returns the time module. All of its functions count as
// nondeterministic for lineage, as LANGUAGE.md says of `time`.
func TimeModule() *exec.Module {
	m := newModule("time")
	m.AddFunc("now", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		return exec.ReadOutcome(th, "time", func() (exec.Value, error) {
			return exec.Float(float64(time.Now().UnixNano()) / 1e9), nil
		})
	}).Nondeterministic = true
	m.AddFunc("monotonic", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		// Not logged for replay: it counts from a point in this process,
		// so a value read by an earlier run elsewhere would not compare
		// with the ones read now. It is for measuring intervals.
		return exec.Float(time.Since(processStart).Seconds()), nil
	}).Nondeterministic = true
	m.AddFunc("sleep", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var secs float64
		if err := args.Unpack("seconds", &secs); err != nil {
			return exec.None, err
		}
		if secs < 0 || math.IsNaN(secs) {
			return exec.None, valueErr(args.Fn, "seconds must not be negative, got %s", exec.FormatFloat(secs))
		}
		var err error
		exec.Blocking(th, func() { err = Sleep(th, secs) }) // a concurrent actor's call yields the actor
		return exec.None, err
	}).Nondeterministic = true
	return m
}

// Sleep waits for secs seconds, returning early with a "cancelled" error
// when th is cancelled.
func Sleep(th *exec.Thread, secs float64) error {
	d := time.Duration(math.Min(secs, float64(math.MaxInt64/int64(time.Second))) * float64(time.Second))
	deadline := time.Now().Add(d)
	for {
		if err := checkCancelled(th); err != nil {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, sleepPoll))
	}
}
