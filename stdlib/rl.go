package stdlib

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rayflow/rayflow/exec"
)

// dynamics is one kind of environment: its state and transition rule.
type dynamics interface {
	// reset starts an episode, drawing from r.
	reset(r *rand.Rand)
	// step applies a valid action and returns the reward and whether the
	// episode ended by itself (not by the step limit).
	step(r *rand.Rand, action int) (reward float64, terminated bool)
	// observe returns the current observation as a program sees it.
	observe() exec.Value
	// features writes the observation as observation_size floats, the
	// input of a linear policy (a one-hot vector for discrete states).
	features(dst []float64)
}

// Env is an environment object ("env"), made by rl.make.
type Env struct {
	mu       sync.Mutex
	name     string
	seed     int64
	rng      *rand.Rand
	dyn      dynamics
	obsSize  int
	actions  int
	maxSteps int
	t        int  // steps taken in the current episode
	active   bool // an episode is running
}

// TypeName is "env".
func (e *Env) TypeName() string { return "env" }

// String is how the environment prints.
func (e *Env) String() string {
	return "<env " + e.name + " seed=" + strconv.FormatInt(e.seed, 10) + ">"
}

// Attr returns the environment's methods and fields.
func (e *Env) Attr(name string) (exec.Value, bool) {
	switch name {
	case "name":
		return exec.Str(e.name), true
	case "seed":
		return exec.Int(e.seed), true
	case "observation_size":
		return exec.Int(int64(e.obsSize)), true
	case "action_count":
		return exec.Int(int64(e.actions)), true
	case "max_steps":
		return exec.Int(int64(e.maxSteps)), true
	case "steps":
		e.mu.Lock()
		defer e.mu.Unlock()
		return exec.Int(int64(e.t)), true
	case "reset":
		return exec.FuncValue(exec.NewMethodOf(e, "reset", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			if err := args.Unpack(); err != nil {
				return exec.None, err
			}
			return e.Reset(), nil
		})), true
	case "step":
		return exec.FuncValue(exec.NewMethodOf(e, "step", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			var a exec.Value
			if err := args.Unpack("action", &a); err != nil {
				return exec.None, err
			}
			action, err := e.action(args.Fn, a)
			if err != nil {
				return exec.None, err
			}
			obs, reward, done, err := e.Step(action)
			if err != nil {
				return exec.None, err
			}
			return exec.ListOf([]exec.Value{obs, exec.Float(reward), exec.Bool(done)}), nil
		})), true
	}
	return exec.None, false
}

// action checks an action value.
func (e *Env) action(fn string, a exec.Value) (int, error) {
	switch a.Kind() {
	case exec.IntKind:
		if n := a.AsInt(); n >= 0 && n < int64(e.actions) {
			return int(n), nil
		}
		return 0, valueErr(fn, "action %d is not valid for %s: actions are 0 to %d", a.AsInt(), e.name, e.actions-1)
	case exec.FutureKind:
		return 0, futureErr(fn, a)
	}
	return 0, typeErr(fn, "the action must be an int, not %s", a.TypeName())
}

// Reset starts a new episode and returns its first observation.
func (e *Env) Reset() exec.Value {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dyn.reset(e.rng)
	e.t, e.active = 0, true
	return e.dyn.observe()
}

// Step applies a valid action: it returns the observation, the reward and
// whether the episode is over (by itself or at max_steps).
func (e *Env) Step(action int) (exec.Value, float64, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	reward, done, err := e.stepLocked(action)
	if err != nil {
		return exec.None, 0, false, err
	}
	return e.dyn.observe(), reward, done, nil
}

func (e *Env) stepLocked(action int) (float64, bool, error) {
	if !e.active {
		if e.t == 0 {
			return 0, false, valueErr("env.step", "call reset() before the first step")
		}
		return 0, false, valueErr("env.step", "the episode is over; call reset() to start another")
	}
	reward, terminated := e.dyn.step(e.rng, action)
	e.t++
	done := terminated || e.t >= e.maxSteps
	if done {
		e.active = false
	}
	return reward, done, nil
}

// Episode runs one episode with a linear policy and returns its total
// reward. w is [action_count, observation_size] (action = argmax of
// w·features), or, for two actions, [observation_size] (action 1 when
// w·features > 0). th may be nil; when cancelled the episode stops with
// a "cancelled" error.
func (e *Env) Episode(th *exec.Thread, w *exec.Tensor, maxSteps int) (float64, error) {
	const fn = "rl.episode"
	vector := len(w.Shape) == 1 && w.Shape[0] == e.obsSize && e.actions == 2
	matrix := len(w.Shape) == 2 && w.Shape[0] == e.actions && w.Shape[1] == e.obsSize
	if !vector && !matrix {
		want := shapeStr([]int{e.actions, e.obsSize})
		if e.actions == 2 {
			want += " or " + shapeStr([]int{e.obsSize})
		}
		return 0, valueErr(fn, "weights of shape %s do not fit %s, which needs %s", shapeStr(w.Shape), e.name, want)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dyn.reset(e.rng)
	e.t, e.active = 0, true
	f := make([]float64, e.obsSize)
	total := 0.0
	for i := 0; i < maxSteps; i++ {
		if i%256 == 0 {
			if err := checkCancelled(th); err != nil {
				return 0, err
			}
		}
		e.dyn.features(f)
		action := 0
		if vector {
			if dot1(w.Data, f) > 0 {
				action = 1
			}
		} else {
			best := math.Inf(-1)
			for a := 0; a < e.actions; a++ {
				if s := dot1(w.Data[a*e.obsSize:(a+1)*e.obsSize], f); s > best {
					best, action = s, a
				}
			}
		}
		r, done, err := e.stepLocked(action)
		if err != nil {
			return 0, err
		}
		total += r
		if done {
			break
		}
	}
	return total, nil
}

// envSpec describes how rl.make builds an environment.
type envSpec struct {
	maxSteps int
	options  []string // rl.make keyword options besides seed and max_steps
	build    func(r *rand.Rand, opts map[string]int) (d dynamics, obsSize, actions int, err error)
}

var envSpecs = map[string]envSpec{
	"CartPole-v1": {maxSteps: 500, build: func(r *rand.Rand, opts map[string]int) (dynamics, int, int, error) {
		return &cartPole{}, 4, 2, nil
	}},
	"Bandit-v0": {maxSteps: 100, options: []string{"arms"}, build: func(r *rand.Rand, opts map[string]int) (dynamics, int, int, error) {
		k, ok := opts["arms"]
		if !ok {
			k = 10
		}
		if k < 1 || k > 1<<20 {
			return nil, 0, 0, valueErr("rl.make", "Bandit-v0 needs 1 to %d arms, got %d", 1<<20, k)
		}
		b := &bandit{means: make([]float64, k)}
		for i := range b.means {
			b.means[i] = r.NormFloat64()
		}
		return b, 1, k, nil
	}},
	"GridWorld-v0": {maxSteps: 100, options: []string{"size"}, build: func(r *rand.Rand, opts map[string]int) (dynamics, int, int, error) {
		n, ok := opts["size"]
		if !ok {
			n = 5
		}
		if n < 2 || n > 1000 {
			return nil, 0, 0, valueErr("rl.make", "GridWorld-v0 needs a size from 2 to 1000, got %d", n)
		}
		return &gridWorld{n: n}, n * n, 4, nil
	}},
}

func envNames() []string {
	names := make([]string, 0, len(envSpecs))
	for n := range envSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MakeEnv is rl.make: the named environment seeded with seed. opts are
// the environment's own options (arms, size) and max_steps; 0 max_steps
// means the environment's default.
func MakeEnv(name string, seed int64, maxSteps int, opts map[string]int) (*Env, error) {
	spec, ok := envSpecs[name]
	if !ok {
		return nil, valueErr("rl.make", "unknown environment %q; known: %s", name, strings.Join(envNames(), ", "))
	}
	for k := range opts {
		known := false
		for _, o := range spec.options {
			known = known || o == k
		}
		if !known {
			return nil, exec.Errorf(exec.KindType, "rl.make: %s has no option '%s'", name, k)
		}
	}
	if maxSteps < 0 {
		return nil, valueErr("rl.make", "max_steps must be positive, got %d", maxSteps)
	}
	if maxSteps == 0 {
		maxSteps = spec.maxSteps
	}
	r := rand.New(rand.NewPCG(uint64(seed), pcgIncrement))
	d, obs, actions, err := spec.build(r, opts)
	if err != nil {
		return nil, err
	}
	return &Env{name: name, seed: seed, rng: r, dyn: d, obsSize: obs, actions: actions, maxSteps: maxSteps}, nil
}

// RLModule returns the rl module: environments and linear-policy helpers.
// Everything is seeded, so deterministic.
func RLModule() *exec.Module {
	m := newModule("rl")
	m.AddFunc("make", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var name string
		var seed int64
		var arms, size, maxSteps exec.Value
		if err := args.Unpack("name", &name, "seed?", &seed, "arms?", &arms, "size?", &size, "max_steps?", &maxSteps); err != nil {
			return exec.None, err
		}
		opts := map[string]int{}
		for _, o := range []struct {
			name string
			v    exec.Value
		}{{"arms", arms}, {"size", size}} {
			switch o.v.Kind() {
			case exec.NoneKind:
			case exec.IntKind:
				opts[o.name] = int(min(max(o.v.AsInt(), -1), 1<<30))
			default:
				return exec.None, typeErr(args.Fn, "%s must be an int, not %s", o.name, o.v.TypeName())
			}
		}
		ms := 0
		switch maxSteps.Kind() {
		case exec.NoneKind:
		case exec.IntKind:
			if maxSteps.AsInt() <= 0 {
				return exec.None, valueErr(args.Fn, "max_steps must be positive, got %d", maxSteps.AsInt())
			}
			ms = int(min(maxSteps.AsInt(), 1<<40))
		default:
			return exec.None, typeErr(args.Fn, "max_steps must be an int, not %s", maxSteps.TypeName())
		}
		e, err := MakeEnv(name, seed, ms, opts)
		if err != nil {
			return exec.None, err
		}
		return exec.ObjectValue(e), nil
	})
	m.AddFunc("envs", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		return strList(envNames()), nil
	})
	m.AddFunc("episode", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var ev exec.Value
		var w *exec.Tensor
		maxSteps := 500
		if err := args.Unpack("env", &ev, "weights", &w, "max_steps?", &maxSteps); err != nil {
			return exec.None, err
		}
		e, ok := asEnv(ev)
		if !ok {
			return exec.None, typeErr(args.Fn, "argument 'env' must be an environment made by rl.make, not %s", ev.TypeName())
		}
		total, err := e.Episode(th, w, maxSteps)
		if err != nil {
			return exec.None, err
		}
		return exec.Float(total), nil
	})
	m.AddFunc("evaluate", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var name string
		var w *exec.Tensor
		var seed int64
		episodes := 1
		if err := args.Unpack("name", &name, "weights", &w, "seed?", &seed, "episodes?", &episodes); err != nil {
			return exec.None, err
		}
		if episodes < 1 {
			return exec.None, valueErr(args.Fn, "episodes must be at least 1, got %d", episodes)
		}
		e, err := MakeEnv(name, seed, 0, nil)
		if err != nil {
			return exec.None, err
		}
		sum := 0.0
		for i := 0; i < episodes; i++ {
			r, err := e.Episode(th, w, e.maxSteps)
			if err != nil {
				return exec.None, err
			}
			sum += r
		}
		return exec.Float(sum / float64(episodes)), nil
	})
	return m
}

func asEnv(v exec.Value) (*Env, bool) {
	if v.Kind() != exec.ObjectKind {
		return nil, false
	}
	e, ok := v.AsObject().(*Env)
	return e, ok
}

// cartPole is the classic cart-pole of Barto, Sutton and Anderson, exactly
// as in Gym's CartPole-v1: Euler integration, 12° and 2.4 thresholds.
type cartPole struct {
	x, xDot, theta, thetaDot float64
}

const (
	cpGravity        = 9.8
	cpMassCart       = 1.0
	cpMassPole       = 0.1
	cpTotalMass      = cpMassPole + cpMassCart
	cpLength         = 0.5 // half the pole's length
	cpPoleMassLength = cpMassPole * cpLength
	cpForceMag       = 10.0
	cpTau            = 0.02
	cpThetaThreshold = 12 * 2 * math.Pi / 360
	cpXThreshold     = 2.4
)

func (c *cartPole) reset(r *rand.Rand) {
	u := func() float64 { return -0.05 + 0.1*r.Float64() }
	c.x, c.xDot, c.theta, c.thetaDot = u(), u(), u(), u()
}

func (c *cartPole) step(r *rand.Rand, action int) (float64, bool) {
	force := -cpForceMag
	if action == 1 {
		force = cpForceMag
	}
	cos, sin := math.Cos(c.theta), math.Sin(c.theta)
	temp := (force + cpPoleMassLength*c.thetaDot*c.thetaDot*sin) / cpTotalMass
	thetaAcc := (cpGravity*sin - cos*temp) / (cpLength * (4.0/3.0 - cpMassPole*cos*cos/cpTotalMass))
	xAcc := temp - cpPoleMassLength*thetaAcc*cos/cpTotalMass
	c.x += cpTau * c.xDot
	c.xDot += cpTau * xAcc
	c.theta += cpTau * c.thetaDot
	c.thetaDot += cpTau * thetaAcc
	terminated := c.x < -cpXThreshold || c.x > cpXThreshold || c.theta < -cpThetaThreshold || c.theta > cpThetaThreshold
	return 1, terminated
}

func (c *cartPole) observe() exec.Value {
	return exec.TensorValue(&exec.Tensor{Shape: []int{4}, Data: []float64{c.x, c.xDot, c.theta, c.thetaDot}})
}

func (c *cartPole) features(dst []float64) {
	dst[0], dst[1], dst[2], dst[3] = c.x, c.xDot, c.theta, c.thetaDot
}

// bandit is a k-armed bandit: arm a pays a normal reward with mean
// means[a] (drawn from N(0, 1) at creation) and standard deviation 1.
type bandit struct {
	means []float64
}

func (b *bandit) reset(r *rand.Rand) {}

func (b *bandit) step(r *rand.Rand, action int) (float64, bool) {
	return b.means[action] + r.NormFloat64(), false
}

func (b *bandit) observe() exec.Value { return exec.Int(0) }

func (b *bandit) features(dst []float64) { dst[0] = 1 }

// gridWorld is an n×n grid: start in cell 0 (top left), goal in the
// opposite corner; actions 0 up, 1 right, 2 down, 3 left (a move into a
// wall stays put); -0.01 per step, 1 on reaching the goal.
type gridWorld struct {
	n, cell int
}

func (g *gridWorld) reset(r *rand.Rand) { g.cell = 0 }

func (g *gridWorld) step(r *rand.Rand, action int) (float64, bool) {
	row, col := g.cell/g.n, g.cell%g.n
	switch action {
	case 0:
		row = max(row-1, 0)
	case 1:
		col = min(col+1, g.n-1)
	case 2:
		row = min(row+1, g.n-1)
	case 3:
		col = max(col-1, 0)
	}
	g.cell = row*g.n + col
	if g.cell == g.n*g.n-1 {
		return 1, true
	}
	return -0.01, false
}

func (g *gridWorld) observe() exec.Value { return exec.Int(int64(g.cell)) }

func (g *gridWorld) features(dst []float64) {
	for i := range dst {
		dst[i] = 0
	}
	dst[g.cell] = 1
}
