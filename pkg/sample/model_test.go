package sample

import (
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/llamafile-go/llamafile/internal/testutil"
)

// modelCases are tokens llama.cpp's sampler chain picked when fed, step by step,
// the 63 rows of llama.cpp's logits for stories260k in the shared golden files
// (testdata/golden/logits/stories260k.logits.f32, 512 tokens per row), accepting
// each picked token. Produced with testdata/refsample.cpp (see reference_test.go)
// as `refsample n=512 logits=/work/shared/testdata/golden/logits/stories260k.logits.f32 ARGS`.
var modelCases = []struct{ args, want string }{
	{"seed=42", "403 407 261 378 432 383 286 261 376 298 315 421 395 317 263 338 401 396 267 337 335 265 272 295 433 335 311 268 262 266 268 388 426 385 328 432 358 262 379 263 262 295 269 317 286 277 421 413 296 418 426 429 412 425 372 358 268 388 381 349 356 426 338"},
	{"seed=1 temp=1 top_k=0 top_p=1 min_p=0", "410 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 265 262 295 433 426 311 357 259 414 268 388 426 385 328 432 358 268 333 286 272 295 269 270 263 411 306 413 262 418 329 429 412 425 372 358 357 420 286 267 356 426 338"},
	{"seed=2 temp=1.3 top_k=0 top_p=1 min_p=0", "385 407 280 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 410 322 265 262 295 433 335 311 374 282 266 268 388 426 385 328 432 405 262 379 391 272 292 443 279 279 411 421 413 280 418 426 429 412 425 372 358 284 420 414 296 356 426 338"},
	{"seed=3 temp=1 top_k=0 top_p=0.9 min_p=0", "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 355 267 337 335 265 282 295 433 426 311 268 432 414 268 388 419 385 328 432 317 352 379 286 270 295 269 317 272 277 306 413 296 418 426 429 412 425 372 358 268 388 414 267 356 426 338"},
	{"seed=4 typ_p=0.8 repeat=1.1 freq=0.1 present=0.05", "385 407 261 378 432 383 286 261 370 298 315 421 395 317 426 338 401 396 267 344 335 265 272 295 433 335 311 357 270 266 280 388 426 385 328 432 358 262 379 263 268 333 269 381 286 411 306 413 399 418 387 429 412 425 372 312 279 388 410 284 356 269 13"},
	{"seed=5 mirostat=2", "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 282 410 265 262 295 433 426 311 267 281 414 268 379 426 385 328 432 358 268 424 280 352 333 269 358 286 277 421 413 399 418 426 429 412 425 372 358 357 388 286 399 340 426 338"},
	{"seed=6 mirostat=1 temp=1", "410 407 261 378 383 383 286 261 376 268 315 421 395 317 426 385 401 355 267 337 410 265 282 295 433 335 311 374 268 266 268 388 419 385 328 432 311 276 379 349 262 292 426 279 267 277 421 413 399 418 426 429 412 425 372 358 268 388 286 297 356 426 13"},
	{"seed=7 xtc_p=0.7 xtc_t=0.05 nsigma=2", "385 407 261 378 432 322 286 261 376 268 315 421 395 317 263 338 401 355 267 337 322 311 272 295 433 269 311 267 400 412 259 421 432 338 328 432 311 262 379 349 268 379 322 349 401 277 306 413 268 418 387 429 412 425 372 312 374 388 286 410 340 269 410"},
	{"seed=8 dyn_range=0.4", "403 407 261 378 432 383 286 261 370 268 315 421 395 317 426 338 401 355 267 337 335 265 282 295 433 335 311 374 270 414 268 388 426 385 328 432 358 282 379 263 262 333 269 317 261 411 421 413 399 418 426 429 412 425 372 358 268 388 286 280 356 426 13"},
	{"seed=9 temp=0", "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 335 265 282 295 433 335 311 374 268 414 268 388 426 385 328 432 358 262 379 286 262 333 269 317 286 411 421 413 399 418 426 429 412 425 372 358 357 388 286 297 356 426 338"},
}

func TestMatchesLlamaCppOnModelLogits(t *testing.T) {
	data, err := os.ReadFile(testutil.SharedFile(t, "testdata/golden/logits/stories260k.logits.f32"))
	if err != nil {
		t.Fatal(err)
	}
	const nVocab = 512
	if len(data)%(4*nVocab) != 0 {
		t.Fatalf("logits file: %d bytes, not rows of %d float32", len(data), nVocab)
	}
	rows := make([][]float32, len(data)/(4*nVocab))
	for r := range rows {
		rows[r] = make([]float32, nVocab)
		for i := range rows[r] {
			rows[r][i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(r*nVocab+i):]))
		}
	}
	for _, tc := range modelCases {
		t.Run(tc.args, func(t *testing.T) {
			p, _, _, _, _ := parseRefArgs(t, tc.args)
			s, err := New(p, nVocab)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range rows {
				tok, err := s.Sample(row)
				if err != nil {
					t.Fatal(err)
				}
				s.Accept(tok)
				got = append(got, strconv.Itoa(int(tok)))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("tokens:\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}
