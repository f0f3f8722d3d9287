package io.dienflink.train;

/**
 * The part of a model that reads the click history with the candidate in mind, and its slice of the
 * head's input after {@code [e_u ; e_a ; s ; e_a ∘ s]}: DIN's attention pooling of the item vectors
 * ({@link AttentionPooling}), DIEN's interest extractor, attention and AUGRU
 * ({@link InterestEvolution}). BaseModel has none.
 */
interface Interest {
    /** The width of this part of the head's input. */
    int width();

    /** One thread's buffers for forward and backward passes over histories of up to {@code maxHistory} clicks. */
    Pass newPass(int maxHistory);

    /** One thread's forward and backward pass through the block, on the {@link Network.Workspace} it belongs to. */
    interface Pass {
        /**
         * Reads the {@code w.length} history item vectors in {@code w.items} and the candidate's
         * {@code w.ea}; writes {@link #width()} values at {@code x[off..]}.
         *
         * @param first the index in the sample's history of the first click in the window
         */
        void forward(Sample s, int first, Network.Workspace w, float[] x, int off);

        /**
         * Backward of the last forward pass (a history of at least one click), given the gradient of
         * its slice of the head's input at {@code dx[off..]}: adds into {@code w.dea} and
         * {@code w.dItems}, and the parameters' gradients (and any embedding rows it read itself) into {@code g}.
         */
        void backward(Sample s, int first, Network.Workspace w, float[] dx, int off, Network.Gradients g);

        /** {@code loss} with the block's auxiliary loss of the last forward pass added (DIEN's), or as it is. */
        double withAuxiliaryLoss(double loss, Network.Workspace w);
    }
}
