package stdlib

import (
	"math"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

func TestCartPolePolicies(t *testing.T) {
	rl := RLModule()
	good := tensor([]int{4}, 0, 0, 1, 1) // push toward where the pole falls
	for seed := int64(0); seed < 10; seed++ {
		got := mustCall(t, rl, "evaluate", S("CartPole-v1"), good, kw("seed", I(seed))).AsFloat()
		if got != 500 {
			t.Errorf("seed %d: the good policy got %v, want 500", seed, got)
		}
		// Zero weights: every score ties, so the action is always 0.
		got = mustCall(t, rl, "evaluate", S("CartPole-v1"), tensor([]int{2, 4}, 0, 0, 0, 0, 0, 0, 0, 0), kw("seed", I(seed))).AsFloat()
		if got >= 100 || got < 5 {
			t.Errorf("seed %d: the always-left policy got %v, want < 100", seed, got)
		}
		// Always right, stepping by hand.
		env := mustCall(t, rl, "make", S("CartPole-v1"), kw("seed", I(seed)))
		mustMethod(t, env, "reset")
		steps := 1
		for !mustMethod(t, env, "step", I(1)).AsList().Elems[2].AsBool() {
			steps++
		}
		if steps >= 100 {
			t.Errorf("seed %d: the always-right policy lasted %d steps", seed, steps)
		}
	}
	// Matrix form equivalent to the good vector policy.
	wm := tensor([]int{2, 4}, 0, 0, -1, -1, 0, 0, 1, 1)
	wv := tensor([]int{4}, 0, 0, 1, 1)
	for seed := int64(0); seed < 3; seed++ {
		a := mustCall(t, rl, "evaluate", S("CartPole-v1"), wm, kw("seed", I(seed)), kw("episodes", I(5))).AsFloat()
		b := mustCall(t, rl, "evaluate", S("CartPole-v1"), wv, kw("seed", I(seed)), kw("episodes", I(5))).AsFloat()
		if a != b || a < 400 {
			t.Errorf("seed %d: matrix policy got %v, vector policy %v", seed, a, b)
		}
	}
	// With position and velocity terms the cart also stays on the track.
	better := tensor([]int{4}, 0.1, 0.5, 1, 1)
	if got := mustCall(t, rl, "evaluate", S("CartPole-v1"), better, kw("seed", I(1)), kw("episodes", I(20))).AsFloat(); got != 500 {
		t.Errorf("the better policy averaged %v over 20 episodes", got)
	}
}

// TestCartPoleDynamics checks one step against Gym's equations computed
// independently here.
func TestCartPoleDynamics(t *testing.T) {
	env := mustCall(t, RLModule(), "make", S("CartPole-v1"), kw("seed", I(5)))
	obs := mustMethod(t, env, "reset").AsTensor()
	if len(obs.Data) != 4 {
		t.Fatalf("observation %v", obs.Shape)
	}
	for _, x := range obs.Data {
		if x < -0.05 || x >= 0.05 {
			t.Errorf("initial state %v outside [-0.05, 0.05)", obs.Data)
		}
	}
	x, xd, th, thd := obs.Data[0], obs.Data[1], obs.Data[2], obs.Data[3]
	res := mustMethod(t, env, "step", I(1)).AsList().Elems
	force := 10.0
	temp := (force + 0.05*thd*thd*math.Sin(th)) / 1.1
	thacc := (9.8*math.Sin(th) - math.Cos(th)*temp) / (0.5 * (4.0/3.0 - 0.1*math.Cos(th)*math.Cos(th)/1.1))
	xacc := temp - 0.05*thacc*math.Cos(th)/1.1
	want := []float64{x + 0.02*xd, xd + 0.02*xacc, th + 0.02*thd, thd + 0.02*thacc}
	got := res[0].AsTensor().Data
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("state[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if res[1].AsFloat() != 1 || res[2].AsBool() {
		t.Errorf("reward/done = %s %s", res[1].Repr(), res[2].Repr())
	}
	// The input observation was not changed by the step.
	if obs.Data[0] != x || obs.Data[3] != thd {
		t.Error("step changed an earlier observation")
	}
	// Same seed, same initial states; the next reset continues the stream.
	env2 := mustCall(t, RLModule(), "make", S("CartPole-v1"), kw("seed", I(5)))
	if mustMethod(t, env2, "reset").Repr() != exec.TensorValue(obs).Repr() {
		t.Error("reset with the same seed differs")
	}
	if mustMethod(t, env2, "reset").Repr() == exec.TensorValue(obs).Repr() {
		t.Error("a second reset repeats the first")
	}
	for name, want := range map[string]int64{"observation_size": 4, "action_count": 2, "max_steps": 500} {
		if v, _ := env.AsObject().Attr(name); v.AsInt() != want {
			t.Errorf("%s = %s", name, v.Repr())
		}
	}
	if env.TypeName() != "env" {
		t.Errorf("type %s", env.TypeName())
	}
}

func TestCartPoleEpisodeEnds(t *testing.T) {
	env := mustCall(t, RLModule(), "make", S("CartPole-v1"))
	_, err := method(t, env, "step", I(0))
	wantErr(t, err, exec.KindValue, "call reset() before the first step")
	mustMethod(t, env, "reset")
	steps := 0
	for {
		steps++
		r := mustMethod(t, env, "step", I(0)).AsList().Elems
		if r[2].AsBool() {
			break
		}
		if steps > 500 {
			t.Fatal("never done")
		}
	}
	if steps >= 100 {
		t.Errorf("always-left fell after %d steps", steps)
	}
	_, err = method(t, env, "step", I(0))
	wantErr(t, err, exec.KindValue, "episode is over")
	_, err = method(t, env, "step", I(2))
	wantErr(t, err, exec.KindValue, "action 2 is not valid")
	_, err = method(t, env, "step", F(1))
	wantErr(t, err, exec.KindType, "must be an int")

	// The 500-step limit.
	e := mustCall(t, RLModule(), "make", S("CartPole-v1"), kw("max_steps", I(20)))
	if got := mustCall(t, RLModule(), "episode", e, tensor([]int{4}, 0, 0, 1, 1)).AsFloat(); got != 20 {
		t.Errorf("episode with max_steps 20 = %v", got)
	}
	if got := mustCall(t, RLModule(), "episode", e, tensor([]int{4}, 0, 0, 1, 1), kw("max_steps", I(7))).AsFloat(); got != 7 {
		t.Errorf("episode(max_steps=7) = %v", got)
	}
}

func TestBandit(t *testing.T) {
	rl := RLModule()
	env := mustCall(t, rl, "make", S("Bandit-v0"), kw("seed", I(1)), kw("arms", I(4)))
	if v, _ := env.AsObject().Attr("action_count"); v.AsInt() != 4 {
		t.Errorf("action_count = %s", v.Repr())
	}
	if o := mustMethod(t, env, "reset"); o.Repr() != "0" {
		t.Errorf("observation = %s", o.Repr())
	}
	b := env.AsObject().(*Env).dyn.(*bandit)
	best := 0
	for i, m := range b.means {
		if m > b.means[best] {
			best = i
		}
	}
	// Pulling the best arm 100 times pays about 100 * its mean.
	w := make([]float64, 4)
	w[best] = 1
	got := mustCall(t, rl, "episode", env, tensor([]int{4, 1}, w...)).AsFloat()
	if math.Abs(got-100*b.means[best]) > 40 {
		t.Errorf("best arm total %v, mean %v", got, b.means[best])
	}
	env2 := mustCall(t, rl, "make", S("Bandit-v0"), kw("seed", I(1)), kw("arms", I(4)))
	if b2 := env2.AsObject().(*Env).dyn.(*bandit); b2.means[0] != b.means[0] {
		t.Error("same seed, different arms")
	}
	_, err := call(t, rl, "make", S("Bandit-v0"), kw("size", I(3)))
	wantErr(t, err, exec.KindType, "no option 'size'")
	_, err = call(t, rl, "episode", env, tensor([]int{4}, 1, 2, 3, 4))
	wantErr(t, err, exec.KindValue, "weights of shape [4] do not fit Bandit-v0, which needs [4, 1]")
}

func TestGridWorld(t *testing.T) {
	rl := RLModule()
	env := mustCall(t, rl, "make", S("GridWorld-v0"))
	if o := mustMethod(t, env, "reset"); o.Repr() != "0" {
		t.Errorf("start = %s", o.Repr())
	}
	// Four steps right, four down: reaches the goal on the 8th step.
	total := 0.0
	for i, a := range []int64{1, 1, 1, 1, 1, 2, 2, 2, 2} { // one bump into the wall
		r := mustMethod(t, env, "step", I(a)).AsList().Elems
		total += r[1].AsFloat()
		if done := r[2].AsBool(); done != (i == 8) {
			t.Fatalf("step %d: done %v", i, done)
		}
		if i == 8 && r[0].AsInt() != 24 {
			t.Errorf("final cell %s", r[0].Repr())
		}
	}
	if !near(total, 1-8*0.01) {
		t.Errorf("total %v", total)
	}
	// A policy that always goes up never arrives: 100 steps of -0.01.
	w := make([]float64, 4*25)
	for c := 0; c < 25; c++ {
		w[c] = 1 // action 0 scores 1 in every cell
	}
	if got := mustCall(t, rl, "episode", env, tensor([]int{4, 25}, w...)).AsFloat(); !near(got, -1) {
		t.Errorf("stuck policy total %v", got)
	}
	_, err := call(t, rl, "make", S("Nope"))
	wantErr(t, err, exec.KindValue, `unknown environment "Nope"; known: Bandit-v0, CartPole-v1, GridWorld-v0`)
}

func TestEpisodeCancel(t *testing.T) {
	th := &exec.Thread{}
	th.Cancel("stop")
	_, err := callOn(t, th, fn(t, RLModule(), "evaluate"), S("CartPole-v1"), tensor([]int{4}, 0, 0, 1, 1), kw("episodes", I(1000)))
	wantErr(t, err, exec.KindCancelled, "stop")
}
