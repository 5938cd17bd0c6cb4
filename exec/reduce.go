package exec

// The reduce built-in: reduce(f, xs) combines the elements of xs with
// the two-argument task f and returns a future of the result, without
// waiting for anything. Every combination is an ordinary call of f made
// through Function.submit, as `f(a, b)` in the program would be: it gets
// the next deterministic task ID of the calling thread, and any call
// waiting in the thread's group is sent before it.
//
// Without a plan the calls form a left fold, a chain in which each call
// takes the previous call's future:
//
//	f(f(f(x0, x1), x2), x3)
//
// When the plan gives f a tree_reduce arity K (decision.Set.ReduceArity,
// decided by the planner from @hint(tree_reduce) or --opt tree_reduce),
// the calls form a K-ary tree: the inputs are cut into consecutive runs
// of K (the last one shorter), each run is folded left into one future,
// and the results are reduced the same way until one remains. The shape
// depends only on len(xs) and K, never on timing or on the cluster, so
// the task IDs and the result are the same on every run; for an
// associative f, which the hint declares, the result is the left fold's.

// builtinReduce is reduce(f, xs).
func builtinReduce(th *Thread, a *Args) (Value, error) {
	var fv, xsv Value
	if err := a.Unpack("f", &fv, "xs", &xsv); err != nil {
		return None, err
	}
	f, err := reduceTask(fv)
	if err != nil {
		return None, err
	}
	switch xsv.kind {
	case ListKind:
	case FutureKind:
		return None, Errorf(KindType, "reduce() needs a list of futures or values to combine, got a future (get it first if it holds the list)")
	default:
		return None, Errorf(KindType, "reduce() needs a list of futures or values to combine, got %s", xsv.TypeName())
	}
	xs := xsv.AsList().Elems
	if len(xs) == 0 {
		return None, Errorf(KindValue, "reduce() of an empty list: there is nothing to combine")
	}
	if len(xs) == 1 {
		return reduceOne(th, xs[0])
	}
	arity := f.prog.Plan.ReduceArity(f.Info)
	tree := arity >= 2
	if !tree {
		arity = len(xs) // one run: the left fold
	}
	level := append([]Value(nil), xs...)
	depth := 0
	for len(level) > 1 {
		depth += min(arity, len(level)) - 1 // a level's longest run folds in turn
		if level, err = reduceLevel(th, f, level, arity, tree); err != nil {
			return None, err
		}
	}
	if tree {
		noteTree(&f.prog.PlanStats, len(xs)-1, depth)
	}
	return level[0], nil
}

// reduceTask checks that v is a task of exactly two parameters.
func reduceTask(v Value) (*Function, error) {
	if v.kind != FunctionKind {
		return nil, Errorf(KindType, "reduce() needs a task of two arguments to combine with, got %s", v.TypeName())
	}
	c := v.AsCallable()
	f, ok := c.(*Function)
	if !ok || f.Kind != "task" {
		return nil, Errorf(KindType, "reduce() needs a task of two arguments to combine with; '%s' is %s", c.Name(), callableKind(c))
	}
	if len(f.params) != 2 {
		return nil, Errorf(KindType, "reduce() needs a task of two arguments to combine with; '%s' takes %d", f.qualifiedName(), len(f.params))
	}
	return f, nil
}

// callableKind says what a callable that is not a task is, for messages.
func callableKind(c Callable) string {
	switch c := c.(type) {
	case *Function:
		if c.Kind == "method" {
			return "an actor method"
		}
		return "a " + c.Kind
	case *ActorClass:
		return "an actor class"
	case *NativeTask:
		return "a native task (reduce takes a task declared in the program)"
	case boundMethod:
		return "an actor method"
	}
	return "a built-in function"
}

// reduceOne is the result of reducing one element: the element itself
// when it is a future, otherwise a future of it made with put.
func reduceOne(th *Thread, x Value) (Value, error) {
	if x.kind == FutureKind {
		return x, nil
	}
	return putCopy(th, x)
}

// reduceLevel folds each consecutive run of arity elements of level into
// one future, in order; a run of one element stays as it is.
//
// The calls of a tree (tree true) are placed next to their largest input,
// so that a run's fold moves one input, not two, between nodes; a left
// fold's calls are placed as the scheduler places any call.
func reduceLevel(th *Thread, f *Function, level []Value, arity int, tree bool) ([]Value, error) {
	next := make([]Value, 0, (len(level)+arity-1)/arity)
	for start := 0; start < len(level); start += arity {
		run := level[start:min(start+arity, len(level))]
		acc := run[0]
		for _, x := range run[1:] {
			v, err := f.submitArgs(th, []Value{acc, x}, nil, nil, submitHow{owned: true, near: tree})
			if err != nil {
				return nil, err
			}
			acc = v
		}
		next = append(next, acc)
	}
	return next, nil
}

// noteTree counts a reduction run as a tree of calls calls, depth deep,
// for `rayflow run --explain`.
func noteTree(stats *PlanStats, calls, depth int) {
	stats.TreeCalls.Add(int64(calls))
	for {
		deepest := stats.TreeDepth.Load()
		if int64(depth) <= deepest || stats.TreeDepth.CompareAndSwap(deepest, int64(depth)) {
			return
		}
	}
}
