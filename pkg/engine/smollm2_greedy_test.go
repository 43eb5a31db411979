package engine

import (
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// TestSmolLM2Greedy holds SmolLM2's greedy completions of 8 plain and 8
// chat prompts to llama.cpp's own spread, with ours and llama.cpp's
// generic build in the same place: both are held against the best build
// (zen4), and ours must be no further from it than the generic build is.
//
// The per-prompt rule of TestGemma3Greedy (ours agrees with one build for
// at least as long as the builds agree with each other) does not hold
// here for a third engine that is exactly as close: this model (30 layers
// of Q4_1, activations rounded to 8 bits) parts at near ties, and the
// builds part on 13 of the 16 prompts. When this test was written
// ours broke that rule on 5 prompts, while llama.cpp's generic build,
// held to the same rule with ours as the other build, broke it on 9; ours
// agreed with the best build for 969 bytes in all, the generic build for
// 977. So the test counts, for both, the prompts where the rule breaks,
// and compares the total agreement with the best build.
func TestSmolLM2Greedy(t *testing.T) {
	cases, ours := greedySpread(t, testutil.SmolLM2(t), "smollm2-greedy.json")
	var oursBreaks, genericBreaks, oursTotal, genericTotal int
	for i, tc := range cases {
		got := ours[i]
		ob, og, gb := agree(got, tc.Best), agree(got, tc.Generic), agree(tc.Generic, tc.Best)
		oursTotal += ob
		genericTotal += gb
		if max(ob, og) < gb {
			oursBreaks++
		}
		if max(gb, og) < ob {
			genericBreaks++
		}
		t.Logf("%-40.40q chat %-5v ours~best %3d, ours~generic %3d, generic~best %3d", tc.Prompt, tc.Chat, ob, og, gb)
	}
	t.Logf("the rule breaks for ours on %d prompts, for llama.cpp's generic build on %d; agreement with the best build: ours %d bytes, generic %d",
		oursBreaks, genericBreaks, oursTotal, genericTotal)
	if oursBreaks > genericBreaks {
		t.Errorf("ours parts from both builds early on %d prompts, more than llama.cpp's generic build does (%d)", oursBreaks, genericBreaks)
	}
	// A tenth of slack: one near tie more or less moves a total by a
	// prompt's length.
	if oursTotal*10 < genericTotal*9 {
		t.Errorf("ours agrees with llama.cpp's best build for %d bytes in all, under nine tenths of its generic build's %d", oursTotal, genericTotal)
	}
}
