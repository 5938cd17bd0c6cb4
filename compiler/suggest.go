package compiler

import (
	"strings"

	"github.com/rayflow/rayflow/lang"
)

// Suggest returns "; did you mean 'NAME'?" for the candidate closest to
// name, or "" when none is close enough to help. Candidates come in order
// of preference (inner scopes first); on a tie the earlier one wins. An
// abbreviation (cnt for count) counts as one edit.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", min(len(name)/2+1, 3)
	for _, c := range candidates {
		if c == name || c == "" {
			continue
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d > 1 && len(name) >= 2 && isSubsequence(strings.ToLower(name), strings.ToLower(c)) {
			d = 1
		}
		if d > 1 && len(c) >= 3 && strings.HasPrefix(strings.ToLower(name), strings.ToLower(c)) {
			d = 1 // a longer form: batching for batch
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean '" + best + "'?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// isSubsequence reports whether the letters of a appear in b in order.
func isSubsequence(a, b string) bool {
	i := 0
	for j := 0; i < len(a) && j < len(b); j++ {
		if a[i] == b[j] {
			i++
		}
	}
	return i == len(a)
}

// nameHint is what follows "undefined name 'NAME'": the rayflow word for
// a Python spelling (True, None, lambda, ...), or a close visible name.
func nameHint(name string, visible []string) string {
	if h := lang.PythonNameHint(name); h != "" {
		return h
	}
	return Suggest(name, visible)
}
