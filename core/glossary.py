"""Every term the app shows that a newcomer may not know, defined once in one line.

Pages pass `explain(term)` as a widget's `help=` or a caption where the term first appears,
so a term reads the same on every page.
"""

from __future__ import annotations

TERMS = {
    "epoch": "One pass of a CNN over all its training images, in small batches.",
    "round": "One round of a Logistic Regression: a fixed number of L-BFGS steps, each "
             "a pass over all its training images.",
    "L-BFGS": "The optimiser scikit-learn uses for Logistic Regression: it steps down the "
              "loss using the gradients of the last few steps to guess the curvature.",
    "one-cycle": "A learning-rate schedule: it warms up over the first 15 % of the steps, "
                 "then falls to zero along a cosine (Smith & Topin, 2017).",
    "learning rate": "How big a step the optimiser (Adam) takes each batch: too small learns "
                     "slowly, too large jumps about.",
    "batch size": "How many images the CNN looks at before each step of its weights.",
    "regularisation C": "Inverse strength of the penalty on large weights: smaller C keeps "
                        "the model simpler, larger C lets it fit its training images closer.",
    "batch normalisation": "A layer that rescales each batch's activations to mean 0 and "
                           "spread 1, and remembers running averages for use on new images.",
    "label smoothing": "Training towards targets that give the right class a little less "
                       "than 1 and every class a little more than 0 (smoothing 0.1 over 10 "
                       "classes: 0.91 and 0.01), so the model is not pushed to ever surer "
                       "answers (Szegedy et al., 2016); its answers are less sure.",
    "transfer learning": "Starting a model from one trained on another task (here the "
                         "convolutions of the built-in MNIST CNN, which learned strokes, for "
                         "sketches; of the most accurate CIFAR-10 CNN trained here, for "
                         "photos) and training only a new head, or then everything gently: it "
                         "needs far fewer examples.",
    "augmentation": "Training on changed copies of the images (shifted, rotated, flipped), "
                    "so the model learns what does not matter.",
    "validation": "Images held out of the training images and scored after each point of "
                  "the curves: the model never learns from them.",
    "test accuracy": "The share of the test images (never seen in training or validation) "
                     "that the finished model reads right.",
    "overfitting": "The model fits its training images much better than new ones: it has "
                   "memorised rather than learned.",
    "did not learn": "The model scores about as well as guessing: too few steps, too few "
                     "images or an unsuited learning rate kept it from learning anything.",
    "underfitting": "The model is still improving: more epochs or rounds (or a larger model) "
                    "would help.",
    "macro F1": "F1 per class (the harmonic mean of precision and recall), then averaged over "
                "the classes with equal weight, so a rare class counts as much as a common one.",
    "macro precision": "Per class, the share of the images called that class that were; "
                       "averaged over the classes with equal weight.",
    "macro recall": "Per class, the share of its images the model found; averaged over the "
                    "classes with equal weight.",
    "log loss": "The average of -log(probability given to the right class): it punishes "
                "being sure and wrong. Lower is better; 0 is perfect.",
    "ECE": "Expected calibration error: the gap between how sure a model is and how often it "
           "is right, averaged over confidence bins weighted by the images in each.",
    "confusion matrix": "A grid counting each (true class, predicted class) pair: the "
                        "diagonal holds the right answers, every other cell one kind of mistake.",
    "log-odds drop": "How much covering a patch lowers log(p / (1 - p)) of the answer: a big "
                     "drop means that patch mattered to it.",
    "Otsu": "Otsu's method picks the grey level that best splits the histogram into two "
            "groups (ink and paper), so no threshold needs to be set by hand.",
    "Sobel aperture": "The size of the Sobel filter Canny uses to measure brightness "
                      "changes: 3, 5 or 7 pixels; larger finds broader edges and needs "
                      "higher thresholds.",
    "p50 latency": "The median time to read one image: half the calls were faster.",
    "estimated / real time": "Seconds from Start to saved: what the Train page estimated "
                             "before the run (from what runs cost on this machine), then what "
                             "it took.",
    "images/s overall": "Training images times epochs (or rounds), divided by the seconds "
                        "training took, building the model and validation included: a small "
                        "run spends most of its time on those, so it looks slower than the "
                        "steady speed an estimate uses.",
}


def explain(term: str) -> str:
    """The one-line definition of `term` (KeyError for a term not in the glossary)."""
    return TERMS[term]
