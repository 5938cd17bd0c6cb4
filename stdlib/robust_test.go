package stdlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// TestNoPanics calls every function of every module with many argument
// combinations, good and bad: each call must return a value or an
// *exec.Error, never panic.
func TestNoPanics(t *testing.T) {
	env, _ := MakeEnv("CartPole-v1", 0, 0, nil)
	m := exec.NewMap(1)
	_ = m.Set(S("k"), I(1))
	pool := []exec.Value{
		exec.None, exec.True, I(0), I(1), I(-1), I(2), I(7), F(2.5), F(math.NaN()), F(math.Inf(-1)),
		S(""), S("a,b"), S("../x"), S("{}"), S("CartPole-v1"),
		L(), L(I(1), I(2)), L(L(I(1), I(2)), L(I(3), I(4))), L(S("a")), L(I(-1)),
		tensor(nil, 3), tensor([]int{3}, 1, 2, 3), tensor([]int{2, 2}, 1, 2, 3, 4), tensor([]int{0}),
		tensor([]int{2, 0}), tensor([]int{1, 4}, 0, 0, 1, 1),
		exec.MapValue(m), exec.ObjectValue(NewGenerator(1)), exec.ObjectValue(env),
		exec.FuncValue(exec.NewBuiltin("f", nil)),
	}
	th := &exec.Thread{WorkDir: t.TempDir(), NodeID: "n"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, mod := range Modules() {
		for _, name := range mod.MemberNames() {
			v := mod.Members[name]
			if v.Kind() != exec.FunctionKind || (mod.Name == "time" && name == "sleep") {
				continue
			}
			c := v.AsCallable()
			try := func(args []exec.Value, kws []exec.Kwarg) {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s.%s(%v, %v) panicked: %v", mod.Name, name, reprs(args), kws, p)
					}
				}()
				_, err := c.Call(th, args, kws)
				if err != nil {
					if _, ok := err.(*exec.Error); !ok {
						t.Errorf("%s.%s(%v): non-exec error %T %v", mod.Name, name, reprs(args), err, err)
					}
				}
			}
			try(nil, nil)
			for _, a := range pool {
				try([]exec.Value{a}, nil)
				for _, b := range pool {
					try([]exec.Value{a, b}, nil)
				}
			}
			for i := 0; i < 400; i++ {
				n := 3 + r.IntN(2)
				args := make([]exec.Value, n)
				for j := range args {
					args[j] = pool[r.IntN(len(pool))]
				}
				try(args, nil)
				try(args[:2], []exec.Kwarg{{Name: []string{"axis", "seed", "max_steps", "episodes", "base", "k"}[r.IntN(6)], Value: pool[r.IntN(len(pool))]}})
			}
		}
	}
}

func reprs(vs []exec.Value) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		if v.Kind() == exec.FunctionKind {
			s += "<function>"
			continue
		}
		s += fmt.Sprint(v.Repr())
	}
	return s
}
