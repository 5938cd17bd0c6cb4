package actorhost

import "testing"

func TestKeys(t *testing.T) {
	if k := Key("job1.3", 2); k != "job1.3~2" || KeyID(k) != "job1.3" || KeyGen(k) != 2 {
		t.Fatalf("key %q splits into %q %d", k, KeyID(k), KeyGen(k))
	}
	if KeyID("job1.3") != "job1.3" || KeyGen("job1.3") != 0 {
		t.Fatal("a bare ID is incarnation 0 of itself")
	}
}

// One incarnation per actor: a newer one supersedes the older, a call
// for the older is told a newer one lives here, a bare ID finds the one
// that lives here.
func TestRegistryIncarnations(t *testing.T) {
	r := NewRegistry()
	first, second := &Actor{id: "a", gen: 1, creator: "owner:1"}, &Actor{id: "a", gen: 2, creator: "owner:1"}
	if old := r.Host(first); old != nil {
		t.Fatal("the first incarnation superseded something")
	}
	if a, newer := r.Lookup("a~1"); a != first || newer {
		t.Fatalf("a~1: %v %v", a, newer)
	}
	if old := r.Host(second); old != first {
		t.Fatal("the second incarnation did not supersede the first")
	}
	if a, newer := r.Lookup("a~1"); a != nil || !newer {
		t.Fatalf("a late call for a~1: %v, newer %v", a, newer)
	}
	if a, newer := r.Lookup("a~3"); a != nil || newer {
		t.Fatalf("a call for a future a~3: %v, newer %v", a, newer)
	}
	if a, _ := r.Lookup("a"); a != second {
		t.Fatal("the bare ID does not find the live incarnation")
	}
	if !r.HostedFor("a~1", "owner:1") || r.HostedFor("a~1", "other:2") || !r.HostedFor("b~1", "other:2") {
		t.Fatal("HostedFor does not follow the creator")
	}
	// A handle of the superseded incarnation passed on does not displace
	// the live one.
	r.Offer(first)
	if a, _ := r.Lookup("a~2"); a != second {
		t.Fatal("an old incarnation's handle displaced the live incarnation")
	}
	if r.Remove("a~1") != nil {
		t.Fatal("removing the superseded incarnation removed the live one")
	}
	if r.Remove("a~2") != second {
		t.Fatal("remove a~2")
	}
	third, fourth := &Actor{id: "job1.4"}, &Actor{id: "job2.1"}
	r.Host(third)
	r.Host(fourth)
	if got := r.RemoveIf(func(id string) bool { return id == "job1.4" }); len(got) != 1 || got[0] != third {
		t.Fatalf("RemoveIf: %v", got)
	}
	if a, _ := r.Lookup("job2.1~0"); a != fourth {
		t.Fatal("RemoveIf removed another job's actor")
	}
}
