package objstore

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// fixedFetcher fetches the same value from anywhere.
type fixedFetcher struct{ v exec.Value }

func (f fixedFetcher) FetchObject(*Object, string) (exec.Value, *exec.Error) { return f.v, nil }

// releaseLog records the objects released and where they were held.
type releaseLog struct{ got []string }

func (l *releaseLog) Released(o *Object, addr string) { l.got = append(l.got, o.ID()+"@"+addr) }

// remoteObject is a ready object held at addr, with releaser rel.
func remoteObject(id, addr string, rel *ReleaseTo) *Object {
	o := NewObject(id, "task 'big'")
	o.SetRemote(addr, 0, fixedFetcher{exec.Int(7)})
	o.SetReleaser(rel)
	o.Complete(exec.None, nil, addr)
	return o
}

// A value fetched while the object is not shared is released at its
// holder, once; one whose reference left the process, before or after
// its releaser was set, is not.
func TestFetchReleasesUnsharedObjects(t *testing.T) {
	log := &releaseLog{}
	rel := NewReleaseTo(log)
	alone := remoteObject("j.1", "n1", rel)
	shared := remoteObject("j.2", "n1", rel)
	if loc := shared.SharedLocation(); loc != "n1" {
		t.Fatalf("SharedLocation = %q, want n1", loc)
	}
	early := NewObject("j.3", "task 'big'")
	early.MarkShared() // passed on before its task finished
	early.SetRemote("n2", 0, fixedFetcher{exec.Int(7)})
	early.SetReleaser(rel)
	early.Complete(exec.None, nil, "n2")
	for _, o := range []*Object{alone, shared, early, alone} {
		if v, err := o.Result(); err != nil || v.Repr() != "7" {
			t.Fatalf("%s: %v %v", o.ID(), v.Repr(), err)
		}
	}
	if len(log.got) != 1 || log.got[0] != "j.1@n1" {
		t.Fatalf("released %v, want [j.1@n1]", log.got)
	}
	if loc := alone.SharedLocation(); loc != "" {
		t.Fatalf("a fetched object still names %q as its holder", loc)
	}
}
