package stdlib

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/rayflow/rayflow/exec"
)

// Generator is a random generator, the "rng" object made by random.new.
// A seeded generator is a PCG stream fully determined by its seed, the
// same on every machine. Its methods are safe for concurrent use.
type Generator struct {
	mu     sync.Mutex
	src    *rand.PCG
	r      *rand.Rand
	seed   int64
	seeded bool
}

// pcgIncrement is the fixed second PCG word, so that a seed alone picks
// the stream.
const pcgIncrement = 0xda3e39cb94b95bdb

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed int64) *Generator {
	return newGenerator(rand.NewPCG(uint64(seed), pcgIncrement), seed, true)
}

func newGenerator(src *rand.PCG, seed int64, seeded bool) *Generator {
	return &Generator{src: src, r: rand.New(src), seed: seed, seeded: seeded}
}

// Copy returns a generator in the same state, so that a generator passed
// to a task (or put) is a copy, as every value is: drawing from one does
// not advance the other.
func (g *Generator) Copy() exec.Object {
	g.mu.Lock()
	defer g.mu.Unlock()
	state, _ := g.src.MarshalBinary()
	src := &rand.PCG{}
	_ = src.UnmarshalBinary(state)
	return newGenerator(src, g.seed, g.seeded)
}

// NewUnseededGenerator returns a generator seeded from the operating
// system's cryptographic randomness.
func NewUnseededGenerator() *Generator {
	s1, s2 := osSeed()
	return unseededFrom(s1, s2)
}

// osSeed draws a generator's seed from the operating system's
// cryptographic randomness.
func osSeed() (uint64, uint64) {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails on supported platforms
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}

// unseededFrom is the unseeded generator with seed (s1, s2).
func unseededFrom(s1, s2 uint64) *Generator {
	return newGenerator(rand.NewPCG(s1, s2), 0, false)
}

// unseededFor returns an unseeded generator for a task's thread. Its seed
// is a nondeterministic read the runtime logs (exec.ReadOutcome), so a
// task run again draws the same numbers: one logged outcome per
// generator, not one per draw.
func unseededFor(th *exec.Thread) (*Generator, error) {
	seed, err := exec.ReadOutcome(th, "random", func() (exec.Value, error) {
		s1, s2 := osSeed()
		return exec.ListOf([]exec.Value{exec.Int(int64(s1)), exec.Int(int64(s2))}), nil
	})
	if err != nil {
		return nil, err
	}
	if seed.Kind() != exec.ListKind || len(seed.AsList().Elems) != 2 {
		return NewUnseededGenerator(), nil // not what was logged: draw afresh
	}
	words := seed.AsList().Elems
	return unseededFrom(uint64(words[0].AsInt()), uint64(words[1].AsInt())), nil
}

// threadRNG is the key of a thread's generator for the module-level
// random functions, in exec.Thread.Local.
const threadRNG = "stdlib.random"

// sharedFor returns the generator the module-level random functions draw
// from on a thread: one per thread, made on its first draw, so that a
// task's draws do not depend on other tasks' and replay the same when it
// runs again. A thread without Local storage draws from fallback.
func sharedFor(th *exec.Thread, fallback *Generator) (*Generator, error) {
	if th == nil || th.Local == nil {
		return fallback, nil
	}
	if g, ok := th.Local[threadRNG].(*Generator); ok {
		return g, nil
	}
	g, err := unseededFor(th)
	if err != nil {
		return nil, err
	}
	th.Local[threadRNG] = g
	return g, nil
}

// TypeName is "rng".
func (g *Generator) TypeName() string { return "rng" }

// String is how the generator prints.
func (g *Generator) String() string {
	if g.seeded {
		return "<rng seed=" + strconv.FormatInt(g.seed, 10) + ">"
	}
	return "<rng unseeded>"
}

// Float returns a float in [0, 1).
func (g *Generator) Float() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.Float64()
}

// Normal returns a normally distributed float.
func (g *Generator) Normal(mean, std float64) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return mean + std*g.r.NormFloat64()
}

// Fill fills dst with standard normal values.
func (g *Generator) FillNormal(dst []float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range dst {
		dst[i] = g.r.NormFloat64()
	}
}

// FillUniform fills dst with floats in [lo, hi).
func (g *Generator) FillUniform(dst []float64, lo, hi float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range dst {
		dst[i] = lo + (hi-lo)*g.r.Float64()
	}
}

// IntRange returns an int in [lo, hi], both included; lo <= hi.
func (g *Generator) IntRange(lo, hi int64) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := uint64(hi-lo) + 1
	if n == 0 { // the whole 64-bit range
		return int64(g.r.Uint64())
	}
	return lo + int64(g.r.Uint64N(n))
}

// IntN returns an int in [0, n); n > 0.
func (g *Generator) IntN(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.IntN(n)
}

// Attr returns the generator's methods and its seed field.
func (g *Generator) Attr(name string) (exec.Value, bool) {
	if name == "seed" {
		if g.seeded {
			return exec.Int(g.seed), true
		}
		return exec.None, true
	}
	fn, ok := rngMethods[name]
	if !ok {
		return exec.None, false
	}
	return exec.FuncValue(exec.NewMethodOf(g, name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		return fn(g, args)
	})), true
}

// EncodeState makes a generator portable (exec.Portable): a generator
// passed to a task on another node arrives in the same state, as a copy
// does on the same node. The state is the seed (8 bytes), whether it was
// seeded (1 byte) and the PCG stream's state.
func (g *Generator) EncodeState() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pcg, err := g.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(g.seed))
	if g.seeded {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return append(b, pcg...), nil
}

// decodeGenerator makes the generator whose state EncodeState wrote.
func decodeGenerator(state []byte) (exec.Object, error) {
	if len(state) < 9 {
		return nil, fmt.Errorf("generator state truncated")
	}
	src := &rand.PCG{}
	if err := src.UnmarshalBinary(state[9:]); err != nil {
		return nil, err
	}
	return newGenerator(src, int64(binary.LittleEndian.Uint64(state)), state[8] == 1), nil
}

func init() {
	exec.RegisterPortable("rng", decodeGenerator)
	// Python's names, for users coming from random.Random.
	rngMethods["random"] = rngMethods["float"]
	rngMethods["randint"] = rngMethods["int"]
}

// rngMethods are the methods of a generator and, on a shared unseeded
// generator, the module-level functions of random.
var rngMethods = map[string]func(g *Generator, args *exec.Args) (exec.Value, error){
	"float": func(g *Generator, args *exec.Args) (exec.Value, error) {
		if err := args.Unpack(); err != nil {
			return exec.None, err
		}
		return exec.Float(g.Float()), nil
	},
	"uniform": func(g *Generator, args *exec.Args) (exec.Value, error) {
		var lo, hi float64
		if err := args.Unpack("lo", &lo, "hi", &hi); err != nil {
			return exec.None, err
		}
		return exec.Float(lo + (hi-lo)*g.Float()), nil
	},
	"int": func(g *Generator, args *exec.Args) (exec.Value, error) {
		var lo, hi int64
		if err := args.Unpack("lo", &lo, "hi", &hi); err != nil {
			return exec.None, err
		}
		if lo > hi {
			return exec.None, valueErr(args.Fn, "empty range: lo (%d) is greater than hi (%d)", lo, hi)
		}
		return exec.Int(g.IntRange(lo, hi)), nil
	},
	"normal": func(g *Generator, args *exec.Args) (exec.Value, error) {
		mean, std := 0.0, 1.0
		if err := args.Unpack("mean?", &mean, "std?", &std); err != nil {
			return exec.None, err
		}
		if std < 0 {
			return exec.None, valueErr(args.Fn, "std must not be negative, got %s", exec.FormatFloat(std))
		}
		return exec.Float(g.Normal(mean, std)), nil
	},
	"choice": func(g *Generator, args *exec.Args) (exec.Value, error) {
		var l *exec.List
		if err := args.Unpack("list", &l); err != nil {
			return exec.None, err
		}
		if len(l.Elems) == 0 {
			return exec.None, exec.Errorf(exec.KindIndex, "%s: cannot choose from an empty list", args.Fn)
		}
		return l.Elems[g.IntN(len(l.Elems))], nil
	},
	"shuffle": func(g *Generator, args *exec.Args) (exec.Value, error) {
		var l *exec.List
		if err := args.Unpack("list", &l); err != nil {
			return exec.None, err
		}
		// In place, as Python's shuffle, and returned for chaining.
		out := l.Elems
		g.mu.Lock()
		g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		g.mu.Unlock()
		return exec.ListValue(l), nil
	},
	"sample": func(g *Generator, args *exec.Args) (exec.Value, error) {
		var l *exec.List
		var k int
		if err := args.Unpack("list", &l, "k", &k); err != nil {
			return exec.None, err
		}
		if k < 0 || k > len(l.Elems) {
			return exec.None, valueErr(args.Fn, "sample size %d is not in [0, %d]", k, len(l.Elems))
		}
		pool := append([]exec.Value(nil), l.Elems...)
		g.mu.Lock()
		for i := 0; i < k; i++ {
			j := i + g.r.IntN(len(pool)-i)
			pool[i], pool[j] = pool[j], pool[i]
		}
		g.mu.Unlock()
		return exec.ListOf(pool[:k:k]), nil
	},
}

// RandomModule returns the random module: random.new(seed?) makes a
// generator; the module-level functions draw from one unseeded generator
// and are nondeterministic.
func RandomModule() *exec.Module {
	m := newModule("random")
	nb := m.AddFunc("new", func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
		var seed exec.Value
		if err := args.Unpack("seed?", &seed); err != nil {
			return exec.None, err
		}
		if len(args.Pos)+len(args.Kw) == 0 {
			g, err := unseededFor(th)
			if err != nil {
				return exec.None, err
			}
			return exec.ObjectValue(g), nil
		}
		// An explicit none is refused: the compiler treats random.new as
		// nondeterministic only when it has no arguments.
		switch seed.Kind() {
		case exec.IntKind:
			return exec.ObjectValue(NewGenerator(seed.AsInt())), nil
		case exec.FutureKind:
			return exec.None, futureErr("random.new", seed)
		}
		return exec.None, typeErr("random.new", "the seed must be an int, not %s (call random.new() without arguments for an unseeded generator)", seed.TypeName())
	})
	nb.NondeterministicWithoutArgs = true

	shared := NewUnseededGenerator()
	for _, name := range []string{"float", "random", "uniform", "int", "randint", "normal", "choice", "shuffle", "sample"} {
		fn := rngMethods[name]
		b := m.AddFunc(name, func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
			g, err := sharedFor(th, shared)
			if err != nil {
				return exec.None, err
			}
			return fn(g, args)
		})
		b.Nondeterministic = true
	}
	return m
}
