package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestEmbeddedPipeline(t *testing.T) {
	out, err := run("4")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(out["count"], out["shouted"]); got != "4 [TASKS! AND! ACTORS! IN!]" {
		t.Fatalf("result = %s", got)
	}
}

// A bad parameter is reported as an error naming it, not a panic.
func TestEmbeddedBadParameter(t *testing.T) {
	_, err := run("many")
	if err == nil || !strings.Contains(err.Error(), "words") {
		t.Fatalf("error = %v; want one naming the parameter 'words'", err)
	}
}
