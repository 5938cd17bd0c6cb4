package compiler

import (
	"reflect"
	"testing"
)

// Options travel between processes encoded (an actor's class Ref): what
// is decoded is what was given, and only what was given.
func TestOptionsEncodeDecode(t *testing.T) {
	o := NewOptions()
	for name, v := range map[string]any{"name": "policy", "namespace": "ns", "lifetime": "detached", "restarts": int64(0),
		"checkpoint": int64(5), "resources": map[string]any{"memory": "1KiB", "gpu": 0.5}} {
		if err := o.Set("actor", name, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	enc := o.Encode()
	back, err := DecodeOptions("actor", enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, o) || back.Encode() != enc {
		t.Fatalf("decoded %+v from %q, want %+v", back, enc, o)
	}
	if o.Resources["memory"] != 1024 || o.Resources["cpu"] != 1 || back.Concurrency != -1 {
		t.Fatalf("resources %v, concurrency %d", o.Resources, back.Concurrency)
	}
	if NewOptions().Encode() != "" {
		t.Fatalf("no options encode to %q", NewOptions().Encode())
	}
}

// Options replace the declaration's settings they give and keep the
// others; the declaration is unchanged.
func TestOptionsOverDeclaration(t *testing.T) {
	decl := &Actor{Name: "Policy", ActorName: "declared", Namespace: DefaultNamespace, Concurrency: 4, Restarts: 0}
	o := NewOptions()
	o.Name, o.Lifetime = "other", "detached"
	a, err := o.Actor(decl)
	if err != nil {
		t.Fatal(err)
	}
	if a.ActorName != "other" || !a.Detached || a.Concurrency != 4 || a.Declaration() != decl || decl.ActorName != "declared" {
		t.Fatalf("options made %+v from %+v", a, decl)
	}
	o = NewOptions()
	o.Restarts = 1
	if _, err := o.Actor(decl); err == nil {
		t.Fatal("restarts with @concurrency(4) accepted")
	}
}
