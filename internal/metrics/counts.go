package metrics

import (
	"sync"
	"sync/atomic"
)

// MaxFunctions bounds the distinct function labels one node reports;
// the tasks of further functions count under OtherFunction.
const MaxFunctions = 1000

// OtherFunction is the function label of the tasks of the functions
// past MaxFunctions.
const OtherFunction = "other"

// TaskCounts are one function's task counters on one node.
type TaskCounts struct {
	Submitted, Finished, Failed atomic.Int64
}

// FuncCounts are a node's task counters by function name. The zero value
// is ready to use.
type FuncCounts struct {
	byName sync.Map     // function name -> *TaskCounts
	names  atomic.Int64 // entries in byName, OtherFunction included
	mu     sync.Mutex   // serialises adding names
}

// Of returns the counters of the function named fn, made on first use;
// past MaxFunctions names, the counters of OtherFunction. A nil
// FuncCounts returns counters nobody reads.
func (f *FuncCounts) Of(fn string) *TaskCounts {
	if f == nil {
		return new(TaskCounts)
	}
	if c, ok := f.byName.Load(fn); ok {
		return c.(*TaskCounts)
	}
	return f.add(fn)
}

func (f *FuncCounts) add(fn string) *TaskCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.byName.Load(fn); ok {
		return c.(*TaskCounts)
	}
	if f.names.Load() >= MaxFunctions {
		fn = OtherFunction
		if c, ok := f.byName.Load(fn); ok {
			return c.(*TaskCounts)
		}
	}
	c := new(TaskCounts)
	f.byName.Store(fn, c)
	f.names.Add(1)
	return c
}

// Each calls fn for every function's counters.
func (f *FuncCounts) Each(fn func(name string, c *TaskCounts)) {
	if f == nil {
		return
	}
	f.byName.Range(func(k, v any) bool {
		fn(k.(string), v.(*TaskCounts))
		return true
	})
}
