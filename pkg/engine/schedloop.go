package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/llamafile-go/llamafile/pkg/model"
)

// The Scheduler's loop: the only goroutine that touches the Runner and
// the slots' sequences.

// output is the slot an output row of a step belongs to.
type output struct {
	sl      *slot
	prefill bool // the row ends the slot's prompt
}

func (s *Scheduler) loop() {
	defer close(s.done)
	batch := make([]model.BatchEntry, 0, s.opts.BatchSize+len(s.slots))
	outs := make([]output, 0, len(s.slots))
	for {
		s.mu.Lock()
		if s.closed {
			queue := s.queue
			s.queue = nil
			s.mu.Unlock()
			for _, j := range queue {
				j.post(func() { j.err, j.ended = ErrClosed, true })
			}
			for _, sl := range s.slots {
				if sl.job != nil {
					s.finish(sl, "", ErrClosed)
				}
			}
			s.publish()
			s.r.Close()
			return
		}
		s.assign()
		s.mu.Unlock()

		active := false
		var embeds []*slot
		for _, sl := range s.slots {
			if sl.job == nil {
				continue
			}
			if err := sl.job.ctx.Err(); err != nil {
				s.finish(sl, "", fmt.Errorf("engine: generation cancelled: %w", err))
				continue
			}
			if sl.job.embed {
				embeds = append(embeds, sl)
				continue
			}
			active = true
		}
		s.embedSlots(embeds)
		if !active {
			s.publish()
			<-s.wake
			continue
		}

		// One step: every generating slot's next token, then whole prompt
		// chunks while they fit.
		batch, outs = batch[:0], outs[:0]
		for _, sl := range s.slots {
			j := sl.job
			if j == nil || len(j.prompt) > 0 {
				continue
			}
			batch = append(batch, model.BatchEntry{Seq: sl.seq, Pos: sl.seq.Pos(), Token: j.res.Tokens[len(j.res.Tokens)-1], Output: true})
			outs = append(outs, output{sl: sl})
		}
		budget := s.opts.BatchSize
		for _, sl := range s.byArrival() {
			j := sl.job
			n := min(len(j.prompt), s.opts.BatchSize)
			if n > budget {
				continue
			}
			if j.tStart.IsZero() {
				j.tStart = time.Now()
			}
			pos := sl.seq.Pos()
			for i, t := range j.prompt[:n] {
				last := i == len(j.prompt)-1
				var embd []float32 // an image position's input
				if IsMediaToken(t) {
					embd = mediaRow(j.req.Media, pos+i, s.m.m.Params.Embd)
				}
				batch = append(batch, model.BatchEntry{Seq: sl.seq, Pos: pos + i, Token: t, Embd: embd, Output: last})
				if last {
					outs = append(outs, output{sl: sl, prefill: true})
				}
			}
			budget -= n
		}
		if err := s.r.Decode(context.Background(), batch, false); err != nil {
			// Not expected: the batch was checked. Fail its requests and
			// forget their slots' caches.
			for _, sl := range s.slots {
				if sl.job != nil && !sl.job.embed {
					sl.seq.Truncate(0)
					sl.tokens = sl.tokens[:0]
					s.finish(sl, "", fmt.Errorf("engine: evaluation failed: %w", err))
				}
			}
			continue
		}
		nPrompt := 0
		for _, e := range batch {
			sl := s.slotOf(e.Seq)
			sl.tokens = append(sl.tokens[:e.Pos], e.Token)
			if j := sl.job; len(j.prompt) > 0 {
				j.prompt = j.prompt[1:]
				nPrompt++
			}
		}
		s.mu.Lock()
		s.stats.Decodes++
		s.stats.PromptTokens += int64(nPrompt)
		s.mu.Unlock()
		for k, o := range outs {
			s.next(o, s.r.Output(k))
		}
		s.publish()
	}
}

// byArrival returns the slots whose prompt is being evaluated, the
// earliest request first.
func (s *Scheduler) byArrival() []*slot {
	var out []*slot
	for _, sl := range s.slots {
		if sl.job != nil && !sl.job.embed && len(sl.job.prompt) > 0 {
			out = append(out, sl)
		}
	}
	for i := 1; i < len(out); i++ {
		for k := i; k > 0 && out[k].job.order < out[k-1].job.order; k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out
}

func (s *Scheduler) slotOf(q *model.Seq) *slot {
	for _, sl := range s.slots {
		if sl.seq == q {
			return sl
		}
	}
	panic("engine: batch row of an unknown sequence")
}

// assign moves queued requests to free slots (s.mu held): the slot asked
// for, else the free slot whose cache shares the longest prefix with the
// prompt. Requests whose context is done leave the queue.
func (s *Scheduler) assign() {
	kept := s.queue[:0]
	for _, j := range s.queue {
		if err := j.ctx.Err(); err != nil {
			j.post(func() { j.err, j.ended = fmt.Errorf("engine: request cancelled while queued: %w", err), true })
			continue
		}
		var best *slot
		bestN := -1
		for _, sl := range s.slots {
			if sl.job != nil || (j.req.Slot >= 0 && sl.id != j.req.Slot) {
				continue
			}
			n := 0
			if j.req.CachePrompt && !j.embed {
				n = commonPrefix(sl.tokens, j.req.Prompt)
			}
			if n > bestN {
				best, bestN = sl, n
			}
		}
		if best == nil {
			kept = append(kept, j)
			continue
		}
		s.order++
		j.order = s.order
		s.start(best, j, bestN)
	}
	s.queue = kept
}

// start puts j on sl, reusing the first reuse tokens of its cache.
func (s *Scheduler) start(sl *slot, j *job, reuse int) {
	prompt := j.req.Prompt
	if j.embed {
		reuse = 0
	}
	// The last prompt token is evaluated again for its logits.
	reuse = min(reuse, len(prompt)-1)
	sl.seq.Truncate(reuse)
	reuse = sl.seq.Pos() // 0 where a sliding window is gone
	sl.tokens = sl.tokens[:reuse]
	sl.job = j
	j.prompt = prompt[reuse:]
	j.res = Result{PromptTokens: len(prompt), CachedTokens: reuse, Slot: sl.id, FinishReason: FinishStop}
}

// next handles the logits of a slot's output row: sample, stream, stop.
func (s *Scheduler) next(o output, logits []float32) {
	sl, j := o.sl, o.sl.job
	now := time.Now()
	if o.prefill {
		j.res.PromptTime = now.Sub(j.tStart)
		s.mu.Lock()
		s.stats.PromptTime += j.res.PromptTime
		s.mu.Unlock()
		j.tGen = now
	}
	var tok int32
	var err error
	if j.grammar != nil {
		tok, err = j.smpl.SampleConstrained(logits, j.grammar)
	} else {
		tok, err = j.smpl.Sample(logits)
	}
	if err != nil {
		s.finish(sl, "", fmt.Errorf("engine: sampling: %w", err))
		return
	}
	j.smpl.Accept(tok)
	if j.grammar != nil {
		if err := j.grammar.AcceptToken(tok); err != nil {
			s.finish(sl, "", fmt.Errorf("engine: %w", err))
			return
		}
	}
	if s.m.IsEOG(tok) && !j.req.IgnoreEOS {
		j.res.StoppedEOS = true
		s.finish(sl, FinishStop, nil)
		return
	}
	info := TokenInfo{TokenProb: TokenProb{ID: tok, Text: string(s.m.tok.TokenToPiece(tok, true))}}
	if j.req.NProbs > 0 {
		info = s.topProbs(logits, tok, j.req.NProbs)
	}
	j.res.Tokens = append(j.res.Tokens, tok)
	j.res.GeneratedTokens++
	j.pending = append(j.pending, info)
	text, stopped := j.text.Add(s.m.TokenToPiece(tok))
	if text != "" || stopped {
		c := Chunk{Text: text, Tokens: j.pending}
		j.pending = nil
		j.post(func() { j.chunks = append(j.chunks, c) })
	}
	switch {
	case stopped:
		j.res.StopWord = j.text.StopWord()
		s.finish(sl, FinishStop, nil)
	case j.grammar != nil && j.grammar.Complete():
		// Only an end-of-generation token could follow, which llama.cpp
		// would sample next; end without that step, as if it had.
		j.res.StoppedEOS = true
		s.finish(sl, FinishStop, nil)
	case j.req.MaxTokens > 0 && j.res.GeneratedTokens >= j.req.MaxTokens:
		s.finish(sl, FinishLength, nil)
	case sl.seq.Pos() >= s.nCtx:
		// The sampled token has no room: shift, or end.
		if !s.opts.ContextShift || j.req.MaxTokens != -1 {
			s.finish(sl, FinishLength, nil)
			return
		}
		keep := j.req.Keep
		if keep < 0 || keep > len(j.req.Prompt) {
			keep = len(j.req.Prompt)
		}
		if s.m.tok.AddBOS() && keep < sl.seq.Pos() {
			keep = max(keep, 1) // never drop the BOS
		}
		keep = min(keep, sl.seq.Pos()-2)
		discard := (sl.seq.Pos() - keep) / 2
		if err := sl.seq.Shift(keep, discard); err != nil {
			s.finish(sl, "", fmt.Errorf("engine: context shift: %w", err))
			return
		}
		sl.tokens = append(sl.tokens[:keep], sl.tokens[keep+discard:]...)
		j.res.Truncated = true
	}
}

// finish ends sl's request: with err, or with reason.
func (s *Scheduler) finish(sl *slot, reason string, err error) {
	j := sl.job
	sl.job = nil
	if j.embed {
		j.post(func() { j.err, j.ended = err, true })
		return
	}
	if !j.tGen.IsZero() {
		j.res.GenerateTime = time.Since(j.tGen)
	}
	if rest := j.text.Flush(); rest != "" || len(j.pending) > 0 {
		c := Chunk{Text: rest, Tokens: j.pending}
		j.pending = nil
		j.post(func() { j.chunks = append(j.chunks, c) })
	}
	if reason != "" {
		j.res.FinishReason = reason
	}
	j.res.Text = j.text.Text()
	res := j.res
	s.mu.Lock()
	s.stats.GeneratedTokens += int64(res.GeneratedTokens)
	s.stats.GenerateTime += res.GenerateTime
	s.stats.RequestsFinished++
	s.mu.Unlock()
	j.post(func() {
		if err != nil {
			j.err = err
		}
		j.result, j.ended = &res, true
	})
}

// embedSlots runs the embedding requests on sls to the end: together
// (model.Runner.EmbedSeqs shares a forward pass among an encoder's
// inputs), else, when that fails, one by one, so that each request has
// its own error.
func (s *Scheduler) embedSlots(sls []*slot) {
	if len(sls) == 0 {
		return
	}
	if len(sls) == 1 {
		s.embed(sls[0])
		return
	}
	seqs := make([]*model.Seq, len(sls))
	inputs := make([][]int32, len(sls))
	total := 0
	for i, sl := range sls {
		sl.tokens = sl.tokens[:0]
		seqs[i], inputs[i] = sl.seq, sl.job.req.Prompt
		total += len(inputs[i])
	}
	// Requests cancelled from here on get their vectors all the same:
	// the pass is one batch.
	vecs, err := s.r.EmbedSeqs(context.Background(), seqs, inputs, s.pooling)
	if err != nil {
		for _, sl := range sls {
			s.embed(sl)
		}
		return
	}
	s.mu.Lock()
	s.stats.PromptTokens += int64(total)
	s.stats.Decodes += int64((total + s.opts.BatchSize - 1) / s.opts.BatchSize)
	s.mu.Unlock()
	for i, sl := range sls {
		s.embedded(sl, vecs[i])
	}
}

// embed runs an embedding request on sl to the end: its tokens in
// chunks, every row's hidden state pooled.
func (s *Scheduler) embed(sl *slot) {
	j := sl.job
	toks := j.req.Prompt
	sl.tokens = sl.tokens[:0]
	// The cache is left holding nothing: hidden states' keys are not a
	// prompt to reuse.
	vec, err := s.r.Embed(j.ctx, sl.seq, toks, s.pooling)
	if err != nil {
		s.finish(sl, "", fmt.Errorf("engine: embedding: %w", err))
		return
	}
	s.mu.Lock()
	s.stats.PromptTokens += int64(len(toks))
	s.stats.Decodes += int64((len(toks) + s.opts.BatchSize - 1) / s.opts.BatchSize)
	s.mu.Unlock()
	s.embedded(sl, vec)
}

// embedded ends sl's embedding request with its vector, normalized as
// llama-server's send_embedding where tokens were pooled into one.
func (s *Scheduler) embedded(sl *slot, vec []float32) {
	switch s.pooling {
	case "mean", "cls", "last":
		model.NormalizeEmbedding(vec, vec, 2)
	}
	j := sl.job
	sl.job = nil
	j.post(func() { j.vector, j.ended = vec, true })
}

// publish updates what SlotInfos and Stats report.
func (s *Scheduler) publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	busy, used := 0, 0
	for i, sl := range s.slots {
		v := &s.slotsView[i]
		v.ID, v.NCtx, v.Busy, v.CachedTokens = sl.id, s.nCtx, sl.job != nil, len(sl.tokens)
		if v.Busy {
			busy++
		}
		used += len(sl.tokens)
	}
	s.stats.Busy, s.stats.KVUsed = busy, used
}
