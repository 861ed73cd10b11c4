// Merges queriers over overlapping or adjacent data (the head and the
// blocks, or several blocks) into one: series with equal labels become one
// series whose samples are the union in time order, a timestamp present in
// several sources appearing once (the first source's sample wins).
#ifndef VIGIL_TSDB_MERGE_H_
#define VIGIL_TSDB_MERGE_H_

#include <memory>
#include <vector>

#include "tsdb/storage.h"

namespace vigil::tsdb {

// A Querier over all of `queriers` (in priority order for equal
// timestamps). With one querier, returns it unchanged.
std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> queriers);

// A SeriesSet over all of `sets`, each sorted by labels.
std::unique_ptr<SeriesSet> NewMergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets);

// A SampleIterator over the union of `its` (each in time order), without
// duplicate timestamps; for equal timestamps the earliest iterator wins.
std::unique_ptr<SampleIterator> NewMergeSampleIterator(
    std::vector<std::unique_ptr<SampleIterator>> its);

}  // namespace vigil::tsdb

#endif  // VIGIL_TSDB_MERGE_H_
