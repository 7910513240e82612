set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "token_accuracy_vs_delay.png"
set title "copy-memory: test token accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "delay"
set ylabel "token accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [25.6:40]
set xtics ("32" 32)
plot '-' using 1:2:3:4 with yerrorlines title "gpt-alibi" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "gpt-learned" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "gpt-none" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "gpt-rope" lw 2 lc 4, '-' using 1:2:3:4 with yerrorlines title "gpt-sinusoidal" lw 2 lc 5, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 5 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
32 0.8954585602406985 0.8914630154456913 0.8983136682787052
e
32 0.9008481099031357 0.8972948983592839 0.9040041939856629
e
32 0.9000793851160622 0.8962137083695878 0.9042450356711913
e
32 0.8842243301046061 0.8774342436741606 0.8898330753764679
e
32 0.8848543723342907 0.8820014187514981 0.8878805635844281
e
32 0.88765757842275
32 0.8979816726597842
32 0.8960209881941408
32 0.8988353037574622
32 0.8967972581693553
e
32 0.8947522720609792
32 0.9058113907899316
32 0.9027838507506194
32 0.9017616762261501
32 0.8991313596879986
e
32 0.8939020815010261
32 0.8990836329892123
32 0.9023174464363796
32 0.9073510476413438
32 0.8977427170123501
e
32 0.8717678100263853
32 0.8923268762324557
32 0.8816790555312637
32 0.885198408053377
32 0.8901495006795486
e
32 0.8828202873057754
32 0.8896589722769981
32 0.8814750036437837
32 0.8829158375278006
32 0.8874017609170951
e
32 0.8958333333333334
e
