/**
 * A placement for a block device's data: the chosen policy, except that reads never get SGL Bit
 * Buckets. A Bit Bucket tells the controller to discard those bytes (S-8); a host uses one only
 * for data it does not want, and an NBD client wants every byte it reads.
 */
import type { DataRequest, PlacementPolicy } from '../../host/placement/layout.js';

export function wholeReadPlacement(policy: PlacementPolicy): PlacementPolicy {
  return {
    name: policy.name,
    placeQueue: (request) => policy.placeQueue(request),
    layout: (request: DataRequest) =>
      request.toDevice || !request.sgl.bitBucket
        ? policy.layout(request)
        : policy.layout({ ...request, sgl: { ...request.sgl, bitBucket: false } }),
  };
}
