package gcs

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// registerInput is one operation on the register named Key: a write of
// Value, or a read. Values are unique and never zero, which stands for a
// key that does not exist (the tables have no delete in this workload).
type registerInput struct {
	Key   string
	Write bool
	Value int64
}

// A read's output is the int64 it returned (0 for ErrNotFound); a write's
// output is nil, since its outcome is recorded in its return time instead.

// registerModel is a set of independent registers, one per key. The history
// is partitioned by key, so each partition's state is a single int64.
var registerModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(registerInput)
		if in.Write {
			return true, in.Value
		}
		return output.(int64) == state.(int64), state
	},
	Hash: func(state any) uint64 { return uint64(state.(int64)) },
	DescribeOperation: func(input, output any) string {
		in := input.(registerInput)
		if in.Write {
			return fmt.Sprintf("put(%s, %d)", in.Key, in.Value)
		}
		return fmt.Sprintf("get(%s) -> %d", in.Key, output.(int64))
	},
	DescribeState: func(state any) string { return fmt.Sprint(state.(int64)) },
}

// partitionByKey splits a history into one partition per key, in key order.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := make(map[string][]porcupine.Operation)
	for _, op := range history {
		k := op.Input.(registerInput).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// TestRegisterModel checks the model itself on histories small enough to
// judge by hand, including a write of unknown outcome (return at the end of
// the history), which may or may not have taken effect.
func TestRegisterModel(t *testing.T) {
	w := func(client int, key string, v, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: registerInput{Key: key, Write: true, Value: v}, Call: call, Return: ret}
	}
	r := func(client int, key string, got, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: registerInput{Key: key}, Output: got, Call: call, Return: ret}
	}
	const end = 1000
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"sequential", []porcupine.Operation{w(0, "a", 1, 0, 10), r(1, "a", 1, 20, 30)}, porcupine.Ok},
		{"stale read", []porcupine.Operation{w(0, "a", 1, 0, 10), w(0, "a", 2, 20, 30), r(1, "a", 1, 40, 50)}, porcupine.Illegal},
		{"lost acknowledged write", []porcupine.Operation{w(0, "a", 1, 0, 10), r(1, "a", 0, 20, 30)}, porcupine.Illegal},
		{"concurrent write either way", []porcupine.Operation{w(0, "a", 1, 0, 30), r(1, "a", 0, 5, 10), r(1, "a", 1, 15, 20)}, porcupine.Ok},
		{"read goes back in time", []porcupine.Operation{w(0, "a", 1, 0, 30), r(1, "a", 1, 5, 10), r(1, "a", 0, 15, 20)}, porcupine.Illegal},
		{"unknown write not taken", []porcupine.Operation{w(0, "a", 1, 0, 10), w(0, "a", 2, 20, end), r(1, "a", 1, 30, 40)}, porcupine.Ok},
		{"unknown write taken late", []porcupine.Operation{w(0, "a", 1, 0, 10), w(0, "a", 2, 20, end), r(1, "a", 1, 30, 40), r(1, "a", 2, 50, 60)}, porcupine.Ok},
		{"unknown write taken then undone", []porcupine.Operation{w(0, "a", 1, 0, 10), w(0, "a", 2, 20, end), r(1, "a", 2, 30, 40), r(1, "a", 1, 50, 60)}, porcupine.Illegal},
		{"keys are independent", []porcupine.Operation{w(0, "a", 1, 0, 10), w(1, "b", 2, 0, 10), r(2, "a", 1, 20, 30), r(2, "b", 2, 20, 30)}, porcupine.Ok},
	}
	for _, tc := range cases {
		if got := porcupine.CheckOperationsTimeout(registerModel, tc.ops, 5*time.Second); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
