package org.adanewton.train;

import org.adanewton.api.TerminationType;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.NetworkProblem;

/**
 * One stage of a run that the {@link Trainer} sequences: a first-order phase (a baseline, or the
 * warm start before a second-order method) or a second-order phase (TR/ARC). A phase owns its
 * problem (the batches it draws) and its optimizer, and closes them.
 *
 * <p>Thread safety: not thread-safe (the trainer's thread only).
 */
sealed interface Phase extends AutoCloseable permits FirstOrderPhase, SecondOrderPhase {
    /** The batches this phase draws (its epochs count towards the run's). */
    NetworkProblem problem();

    /** One iteration at w (g: scratch for a gradient), counted into flops; a termination that ends the run, else null. */
    TerminationType step(Vector w, Vector g, FlopCounter flops);

    /** Why the run ended, in words, after step returned end. */
    String termination(TerminationType end);

    /** The current radius (TR) or sigma (ARC), NaN for a first-order phase. */
    double regularization();

    /** What a checkpoint keeps of the phase. */
    State save();

    @Override
    void close();

    /** A phase's saved state (restored by the phase that saved it: {@link FirstOrderPhase#restore}, {@link SecondOrderPhase#restore}). */
    sealed interface State permits FirstOrderPhase.State, SecondOrderPhase.State {}
}
