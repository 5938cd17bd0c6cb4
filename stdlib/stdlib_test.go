package stdlib

import "testing"

func TestModules(t *testing.T) {
	want := []string{"math", "random", "nd", "str", "json", "time", "io", "sys", "rl", "actors"}
	mods := Modules()
	if len(mods) != len(want) {
		t.Fatalf("got %d modules", len(mods))
	}
	for i, m := range mods {
		if m.Name != want[i] {
			t.Errorf("module %d is %s, want %s", i, m.Name, want[i])
		}
		if len(m.Members) == 0 {
			t.Errorf("module %s is empty", m.Name)
		}
		if m.TypeName() != "module" {
			t.Errorf("module %s has type %s", m.Name, m.TypeName())
		}
	}
	// Fresh instances each time.
	if Modules()[0] == Modules()[0] {
		t.Error("Modules returns shared instances")
	}
}
