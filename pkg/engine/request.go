package engine

import (
	"time"

	"github.com/llamafile-go/llamafile/pkg/grammar"

	"github.com/llamafile-go/llamafile/pkg/sample"
)

// Request is one text generation a Scheduler serves: a prompt, how to
// sample and when to stop.
type Request struct {
	// Prompt is the tokens to continue (BOS included when wanted). The
	// positions of images hold MediaTokens placeholders (see Prompt).
	Prompt []int32
	// Media gives the input embeddings of Prompt's image positions.
	Media []MediaSpan
	// MaxTokens is the most tokens to generate: -1 means no limit but the
	// context (then the context shifts, when allowed), -2 until the
	// context is full.
	MaxTokens int
	// Sampling configures the sampler; ContextSize is filled in.
	Sampling sample.Params
	// Stop ends generation where the output contains one of these
	// strings; the output ends before it.
	Stop []string
	// IgnoreEOS keeps generating past end-of-generation tokens.
	IgnoreEOS bool
	// CachePrompt reuses the longest common prefix of a slot's cached
	// tokens (llama.cpp's cache_prompt).
	CachePrompt bool
	// Slot asks for a slot by id; -1 takes any free slot.
	Slot int
	// NProbs asks for the NProbs most likely tokens (and the chosen
	// token's probability) at every generated position; 0 none.
	NProbs int
	// Keep is how many prompt tokens a context shift keeps (-1: all).
	Keep int
	// Grammar, when not nil, constrains the generated text to its
	// language (Model.ParseGrammar makes one); generation stops when the
	// grammar is complete.
	Grammar *grammar.Grammar
	// GrammarTriggers, when not nil, makes Grammar lazy: it applies only
	// from one of the triggers on.
	GrammarTriggers *grammar.Triggers
}

// TokenProb is a token with its probability, as a log-probability.
type TokenProb struct {
	ID      int32
	Text    string // the token's piece, special tokens rendered
	Logprob float64
}

// TokenInfo is one generated token, with the probabilities asked for.
type TokenInfo struct {
	TokenProb
	Top []TokenProb // the Request.NProbs most likely, most likely first
}

// Chunk is a piece of generated text handed to the caller as it is made.
// Text never ends inside a UTF-8 sequence and never holds a prefix of a
// stop string that may still complete; the tokens are those whose text
// Chunk completes (a token's text may arrive in a later chunk).
type Chunk struct {
	Text   string
	Tokens []TokenInfo
}

// Finish reasons, as OpenAI's API names them.
const (
	FinishStop   = "stop"   // end of generation or a stop string
	FinishLength = "length" // MaxTokens or the context reached
)

// Result sums up a finished generation.
type Result struct {
	Text         string  // everything generated, stop string excluded
	Tokens       []int32 // the generated tokens
	FinishReason string  // FinishStop or FinishLength
	StopWord     string  // the stop string that ended generation, if any
	StoppedEOS   bool    // an end-of-generation token ended it
	Truncated    bool    // the context shifted

	PromptTokens    int // tokens of the prompt
	CachedTokens    int // of which were reused from the slot's cache
	GeneratedTokens int
	PromptTime      time.Duration // evaluating the prompt
	GenerateTime    time.Duration // generating (from the first token)
	Slot            int           // the slot that served it
}
