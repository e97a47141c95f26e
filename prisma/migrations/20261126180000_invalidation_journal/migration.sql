-- CreateTable
CREATE TABLE "cache_missed_invalidations" (
    "id" BIGSERIAL NOT NULL,
    "cache_key" TEXT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cache_missed_invalidations_pkey" PRIMARY KEY ("id")
);
