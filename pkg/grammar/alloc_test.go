package grammar

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestAdversarialAllocations: hostile grammars (huge repetition counts,
// long items repeated, long rule names multiplied by generated rules,
// parentheses nested a hundred thousand deep) parse or fail with
// allocations bounded by a factor of their text, and errors that name what
// was wrong. The factor is not small: every pair of parentheses makes a rule,
// which costs some 300 bytes as the parser's slices grow; what it bounds is
// the thousandfold of a literal copied by its repetitions.
func TestAdversarialAllocations(t *testing.T) {
	// Sizes such that the parser this test guards against allocates a
	// few hundred MiB, not what would exhaust the machine.
	long := `"` + strings.Repeat("a", 8<<10) + `"`
	class := "[" + strings.Repeat("a-b", 3<<10) + "]"
	name := strings.Repeat("n", 16<<10)
	for _, tc := range []struct {
		name, src, errText string // errText "": the grammar parses
	}{
		{"{1000000}", `root ::= "a"{1000000}`, "more than the 2000 allowed"},
		{"{0,1000000}", `root ::= "a"{0,1000000}`, ""},
		{"{2^64}", `root ::= "a"{99999999999999999999}`, "out of range"},
		{"nested repetitions", `root ::= (("a"{0,50}){0,50}){0,50}`, "too many rules"},
		{"8 KiB literal {1999}", "root ::= " + long + "{1999}", "too many elements"},
		{"8 KiB literal {0,1999}", "root ::= " + long + "{0,1999}", "too many elements"},
		{"3072 ranges {1999}", "root ::= " + class + "{1999}", "too many elements"},
		{"200 literals each {100}", "root ::= " + strings.Repeat(`"`+strings.Repeat("a", 1000)+`"{100} `, 200), "too many elements"},
		{"16 KiB name, {0,1999}", name + " ::= \"a\"{0,1999}\nroot ::= " + name, ""},
		{"16 KiB name, 50000 groups", name + " ::= " + strings.Repeat("()", 50000) + "\nroot ::= " + name, ""},
		{"100000 nested groups", "root ::= " + strings.Repeat("(", 100000) + `"a"` + strings.Repeat(")", 100000), "nested more than 1000 deep"},
		{"1000 nested groups", "root ::= " + strings.Repeat("(", 1000) + `"a"` + strings.Repeat(")", 1000), ""},
		{"100000 rules in a chain", chain(100000), ""},
		{"150000 groups", "root ::= " + strings.Repeat("()", 150000), "more than the 131072 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			_, err := Parse(tc.src)
			runtime.ReadMemStats(&b)
			grew := b.TotalAlloc - a.TotalAlloc
			t.Logf("%d bytes: %d KiB allocated, %d KiB of stack, err %v", len(tc.src), grew>>10, b.StackInuse>>10, err)
			switch {
			case tc.errText == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)):
				t.Fatalf("Parse: %v, want an error saying %q", err, tc.errText)
			}
			if ceiling := uint64(16<<20 + 192*len(tc.src)); grew > ceiling {
				t.Errorf("allocated %d bytes for a %d-byte grammar (ceiling %d)", grew, len(tc.src), ceiling)
			}
		})
	}
}

// chain is a grammar of n rules, each referring to the next.
func chain(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "r%d ::= \"a\" r%d\n", i, i+1)
	}
	fmt.Fprintf(&b, "r%d ::= \"b\"\nroot ::= r0\n", n)
	return b.String()
}
