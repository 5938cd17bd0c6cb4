package exec

import (
	"strconv"
	"strings"
	"testing"
)

// Grouped calls' IDs are written into chunks they alias: each is its
// thread's task ID and its number, whatever their lengths, and stays so
// while later IDs fill its chunk and the next ones (no ID is written over).
func TestGroupedCallIDsKeepTheirChunk(t *testing.T) {
	for _, taskID := range []string{"j.1", "0123456789abcdef.7.19", strings.Repeat("x", 600)} {
		th := &Thread{TaskID: taskID}
		p := th.plan()
		var ids []string
		for range 200 {
			ids = append(ids, th.groupedCallID(p))
		}
		if id := th.NextCallID(); id != taskID+".201" {
			t.Fatalf("the call after 200 grouped calls is %q, want %s.201", id, taskID)
		}
		for i, id := range ids {
			if want := taskID + "." + strconv.Itoa(i+1); id != want {
				t.Fatalf("grouped call %d has ID %q, want %q", i+1, id, want)
			}
		}
	}
}

// Grouped calls' arguments made in the thread's chunks are each their
// own: no call's can grow into or be written over by the next's, across
// chunks and whatever their number.
func TestGroupedCallArgsOwnTheirRoom(t *testing.T) {
	p := &threadPlan{}
	var all [][]Value
	for i := range 1000 {
		n := 1 + i%3
		args := p.newArgs(n)
		if len(args) != n || cap(args) != n {
			t.Fatalf("call %d: room of len %d, cap %d, want %d", i, len(args), cap(args), n)
		}
		for j := range args {
			args[j] = Int(int64(i*10 + j))
		}
		all = append(all, args)
	}
	for i, args := range all {
		for j, a := range args {
			if a.AsInt() != int64(i*10+j) {
				t.Fatalf("call %d's argument %d is %v, want %d", i, j, a, i*10+j)
			}
		}
	}
}
