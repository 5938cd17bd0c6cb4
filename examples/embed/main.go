package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
)

const pipeline = `
pipeline main(words: int = 3) {
    let futs = [shout(w) for w in sentence()[:words]]
    return {"shouted": get(futs), "count": words}
}
`

// run compiles and runs the pipeline, returning its result as Go values.
func run(words string) (map[string]any, error) {
	prog, err := rayflow.Compile("embedded.rayflow", pipeline, &rayflow.Options{
		// A built-in: runs inline in the caller.
		Builtins: map[string]exec.BuiltinFunc{
			"sentence": func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
				if err := args.Unpack(); err != nil {
					return exec.None, err
				}
				return rayflow.FromGo([]string{"tasks", "and", "actors", "in", "go"})
			},
		},
		// A task: each call runs on a worker, wherever one CPU is free.
		Tasks: map[string]rayflow.Task{
			"shout": {Resources: map[string]float64{"cpu": 1}, Fn: func(th *exec.Thread, args *exec.Args) (exec.Value, error) {
				var s string
				if err := args.Unpack("word", &s); err != nil {
					return exec.None, err
				}
				return exec.Str(strings.ToUpper(s) + "!"), nil
			}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s", rayflow.FormatError(err, pipeline))
	}
	result, err := prog.Run(context.Background(), rayflow.RunOptions{Params: map[string]string{"words": words}})
	if err != nil {
		return nil, fmt.Errorf("%s", rayflow.FormatError(err, pipeline))
	}
	g, err := rayflow.ToGo(result)
	if err != nil {
		return nil, err
	}
	return g.(map[string]any), nil
}

func main() {
	out, err := run("4")
	if err != nil {
		fmt.Fprint(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(out["count"], out["shouted"])
}
