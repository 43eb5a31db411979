package engine

import "errors"

// Errors a Scheduler returns (wrapped); test with errors.Is.
var (
	// ErrQueueFull: every slot is busy and the queue is full.
	ErrQueueFull = errors.New("the server is busy: every slot is taken and the queue is full")
	// ErrPromptTooLong: the prompt does not fit in a slot's context.
	ErrPromptTooLong = errors.New("the prompt does not fit in the context")
	// ErrNoEmbeddings: embeddings were not enabled (--embeddings).
	ErrNoEmbeddings = errors.New("embeddings are not enabled: start the server with --embeddings")
)

// SlotInfo describes one slot of a Scheduler, for /slots.
type SlotInfo struct {
	ID           int
	Busy         bool
	NCtx         int    // positions the slot holds
	CachedTokens int    // tokens in its cache
	Prompt       string // the prompt of its last request (may be empty)
}
