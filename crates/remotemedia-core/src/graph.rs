//! The pipeline graph: adjacency, cycle detection, and the fused stages the executor runs.

/// Adjacency lists over node indices (manifest order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graph {
    pub downstream: Vec<Vec<usize>>,
    pub upstream: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(len: usize, edges: &[(usize, usize)]) -> Self {
        let mut downstream = vec![Vec::new(); len];
        let mut upstream = vec![Vec::new(); len];
        for &(from, to) in edges {
            downstream[from].push(to);
            upstream[to].push(from);
        }
        Self { downstream, upstream }
    }

    pub fn len(&self) -> usize {
        self.downstream.len()
    }

    /// Nodes with no upstream: they receive the pipeline's inputs.
    pub fn roots(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.upstream[i].is_empty()).collect()
    }

    /// Nodes with no downstream: their outputs are the pipeline's outputs.
    pub fn sinks(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.downstream[i].is_empty())
            .collect()
    }

    /// One cycle per strongly connected component that has one, each as a closed path of node
    /// indices (`[a, b, c, a]`), plus every node of that component.
    pub fn cycles(&self) -> Vec<(Vec<usize>, Vec<usize>)> {
        self.strongly_connected()
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.downstream[scc[0]].contains(&scc[0]))
            .map(|mut scc| {
                scc.sort_unstable();
                let path = self.cycle_through(scc[0], &scc);
                (path, scc)
            })
            .collect()
    }

    /// A closed path from `start` back to itself inside `members` (which must be strongly connected).
    fn cycle_through(&self, start: usize, members: &[usize]) -> Vec<usize> {
        // Breadth-first search for the shortest way back to `start`.
        let mut prev = vec![usize::MAX; self.len()];
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for &next in &self.downstream[n] {
                if next == start {
                    let mut path = vec![n];
                    while *path.last().unwrap_or(&start) != start {
                        let last = path[path.len() - 1];
                        path.push(prev[last]);
                    }
                    path.reverse();
                    path.push(start);
                    return path;
                }
                if members.contains(&next) && prev[next] == usize::MAX && next != start {
                    prev[next] = n;
                    queue.push_back(next);
                }
            }
        }
        vec![start, start]
    }

    /// Tarjan's algorithm (iterative).
    fn strongly_connected(&self) -> Vec<Vec<usize>> {
        let n = self.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut out = Vec::new();
        let mut counter = 0;
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work = vec![(root, 0usize)];
            while let Some(&mut (v, ref mut child)) = work.last_mut() {
                if *child == 0 && index[v] == usize::MAX {
                    index[v] = counter;
                    low[v] = counter;
                    counter += 1;
                    stack.push(v);
                    on_stack[v] = true;
                }
                if let Some(&w) = self.downstream[v].get(*child) {
                    *child += 1;
                    if index[w] == usize::MAX {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(scc);
                }
            }
        }
        out
    }

    /// Groups nodes into stages, each run by one task. With `fuse`, a maximal chain where each
    /// link is the only edge out of one node and the only edge into the next, and every node is
    /// fusable (synchronous), becomes one stage; otherwise every node is its own stage.
    /// Stages are returned in an order where upstream stages come first.
    pub fn stages(&self, fusable: &[bool], fuse: bool) -> Vec<Vec<usize>> {
        let n = self.len();
        let joins_next = |i: usize| -> Option<usize> {
            let d = &self.downstream[i];
            (fuse && d.len() == 1 && self.upstream[d[0]].len() == 1 && fusable[i] && fusable[d[0]])
                .then(|| d[0])
        };
        let mut has_fused_parent = vec![false; n];
        for i in 0..n {
            if let Some(next) = joins_next(i) {
                has_fused_parent[next] = true;
            }
        }
        let mut stages = Vec::new();
        for start in self.topological_order() {
            if has_fused_parent[start] {
                continue;
            }
            let mut chain = vec![start];
            let mut cur = start;
            while let Some(next) = joins_next(cur) {
                chain.push(next);
                cur = next;
            }
            stages.push(chain);
        }
        stages
    }

    /// Kahn's algorithm; ties broken by manifest order. Assumes the graph is acyclic.
    pub fn topological_order(&self) -> Vec<usize> {
        let mut indegree: Vec<usize> = self.upstream.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> =
            (0..self.len()).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &d in &self.downstream[i] {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycles_with_their_nodes() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3
        let g = Graph::new(4, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 3)]);
        let mut cycles = g.cycles();
        cycles.sort();
        assert_eq!(
            cycles,
            vec![(vec![0, 1, 2, 0], vec![0, 1, 2]), (vec![3, 3], vec![3])]
        );
    }

    #[test]
    fn acyclic_graphs_have_no_cycles() {
        let diamond = Graph::new(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert!(diamond.cycles().is_empty());
        assert_eq!(diamond.topological_order(), vec![0, 1, 2, 3]);
        assert_eq!(diamond.roots(), vec![0]);
        assert_eq!(diamond.sinks(), vec![3]);
    }

    #[test]
    fn stages_fuse_linear_runs_only() {
        // 0 -> 1 -> 2 -> {3, 4}; 3 -> 5; 4 -> 5
        let g = Graph::new(6, &[(0, 1), (1, 2), (2, 3), (2, 4), (3, 5), (4, 5)]);
        let all = vec![true; 6];
        assert_eq!(
            g.stages(&all, true),
            vec![vec![0, 1, 2], vec![3], vec![4], vec![5]]
        );
        assert_eq!(g.stages(&all, false).len(), 6);
        let mut mixed = all.clone();
        mixed[1] = false;
        assert_eq!(
            g.stages(&mixed, true),
            vec![vec![0], vec![1], vec![2], vec![3], vec![4], vec![5]]
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Random DAGs: edges only go from a lower to a higher index.
    fn dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
        (1usize..12).prop_flat_map(|n| {
            let edges = proptest::collection::btree_set((0..n, 0..n), 0..(n * 2))
                .prop_map(|set| set.into_iter().filter(|(a, b)| a < b).collect::<Vec<_>>());
            (Just(n), edges)
        })
    }

    proptest! {
        #[test]
        fn dags_have_no_cycles_and_a_consistent_order((n, edges) in dag(), fuse: bool, fusable in proptest::collection::vec(any::<bool>(), 12)) {
            let g = Graph::new(n, &edges);
            prop_assert!(g.cycles().is_empty());
            let order = g.topological_order();
            prop_assert_eq!(order.len(), n);
            let pos: Vec<usize> = (0..n).map(|i| order.iter().position(|&o| o == i).unwrap_or(usize::MAX)).collect();
            for &(a, b) in &edges {
                prop_assert!(pos[a] < pos[b]);
            }
            // Stages cover every node exactly once; inside a stage each node is the only
            // downstream of the previous one.
            let stages = g.stages(&fusable[..n], fuse);
            let mut seen: Vec<usize> = stages.iter().flatten().copied().collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..n).collect::<Vec<_>>());
            for stage in &stages {
                for pair in stage.windows(2) {
                    prop_assert_eq!(&g.downstream[pair[0]], &vec![pair[1]]);
                    prop_assert_eq!(&g.upstream[pair[1]], &vec![pair[0]]);
                }
            }
        }

        #[test]
        fn a_back_edge_always_makes_a_named_cycle((n, edges) in dag(), pick: prop::sample::Index) {
            prop_assume!(!edges.is_empty());
            let (a, b) = edges[pick.index(edges.len())];
            let mut with_back = edges.clone();
            with_back.push((b, a));
            let cycles = Graph::new(n, &with_back).cycles();
            prop_assert!(!cycles.is_empty());
            for (path, members) in cycles {
                prop_assert_eq!(path.first(), path.last());
                for pair in path.windows(2) {
                    prop_assert!(with_back.contains(&(pair[0], pair[1])));
                }
                prop_assert!(path.iter().all(|p| members.contains(p)));
            }
        }
    }
}
